import { builder } from '../builder.js';

/** Lifecycle of a chat run (values map 1:1 to the `chat_status` enum). */
export const ChatStatus = builder.enumType('ChatStatus', {
  values: {
    WAITING: { value: 'waiting', description: 'Idle: the last run finished; waiting for the user.' },
    PENDING: { value: 'pending', description: 'A user message awaits a worker.' },
    RUNNING: { value: 'running', description: 'A worker is running the model.' },
    PAUSED: { value: 'paused', description: 'Interrupted by the user.' },
    COMPLETED: { value: 'completed', description: 'Done for good (sub-agents).' },
    ERROR: { value: 'error', description: 'The last run failed; see lastError.' },
    REQUIRES_ACTION: { value: 'requires_action', description: 'The agent waits for the user to approve or answer.' },
  } as const,
});
