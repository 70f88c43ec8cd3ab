import * as subscriptions from '../../resolvers/subscriptions.js';
import type { ModelConfigEventKind as Kind, StreamEvent } from '../../resolvers/subscriptions.js';
import { builder } from '../builder.js';
import { ChatModelConfig } from './ChatModelConfig.js';

/** What happened to a model config. */
export const ModelConfigEventKind = builder.enumType('ModelConfigEventKind', {
  values: {
    CREATED: {},
    UPDATED: { description: 'Any other change, including losing the default flag.' },
    DELETED: { description: 'Soft-deleted (only this event, whatever else the delete changed).' },
    DEFAULT_CHANGED: { description: 'This config became the default.' },
  } as const satisfies Record<Kind, object>,
});

/** One change to a model config. */
export const ModelConfigEvent = builder.objectRef<StreamEvent<Kind>>('ModelConfigEvent').implement({
  description: 'A change to a model config. `modelConfig` is its state when the event was delivered.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Pass as `after` to resume right after this event.' }),
    kind: t.field({ type: ModelConfigEventKind, resolve: (e) => e.kind }),
    modelConfig: t.field({ type: ChatModelConfig, resolve: (e) => e.data.modelConfig! }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When the change was written.' }),
  }),
});

builder.subscriptionField('modelConfigChanged', (t) =>
  t.field({
    type: ModelConfigEvent,
    description: 'Changes to model configs (any authenticated token). With `after`, replays what you missed first.',
    args: { after: t.arg.string({ description: 'The cursor of the last event you received.' }) },
    subscribe: (_root, args, ctx) => subscriptions.modelConfigChanged(args, ctx),
    resolve: (item, _args, ctx) => subscriptions.deliver(item, ctx),
  }),
);
