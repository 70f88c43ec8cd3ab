import type { Logger } from 'pino';
import { expect } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { logger } from '../../src/logger.js';
import type { EventListener } from '../../src/events/listener.js';
import type { EventRow } from '../../src/events/log.js';
import type { EventSubscription, HubEvent } from '../../src/events/hub.js';

let counter = 0;

/** Tests kill connections on purpose: keep the expected reconnect warnings out of the output. */
export const quietLogger: Logger = logger.child({}, { level: 'error' });

/** A user (owner of chats) written directly in SQL, as any external writer would. */
export async function insertUser(db: Db): Promise<string> {
  const row = await db.one<{ id: string }>("INSERT INTO users (username) VALUES ($1) RETURNING id", [`ev${process.pid}x${++counter}`]);
  return row.id;
}

/** A model config; `isDefault` needs no other live default. */
export async function insertModelConfig(db: Db, options: { isDefault?: boolean } = {}): Promise<string> {
  const row = await db.one<{ id: string }>(
    "INSERT INTO chat_model_configs (provider, model, context_limit, is_default) VALUES ('test', $1, 1000, $2) RETURNING id",
    [`model-${++counter}`, options.isDefault ?? false],
  );
  return row.id;
}

/** A root chat, or a child when `rootId` is given. */
export async function insertChat(db: Db, ownerId: string, modelConfigId: string, options: { rootId?: string } = {}): Promise<string> {
  const row = await db.one<{ id: string }>(
    `INSERT INTO chats (owner_id, last_model_config_id, parent_chat_id, root_chat_id)
     VALUES ($1, $2, $3, $3) RETURNING id`,
    [ownerId, modelConfigId, options.rootId ?? null],
  );
  return row.id;
}

/** Inserts a message and returns its id. */
export async function insertMessage(db: Pick<Db, 'one'>, chatId: string, text = 'hello', modelConfigId: string | null = null): Promise<string> {
  const row = await db.one<{ id: string }>(
    `INSERT INTO chat_messages (chat_id, role, content, content_version, model_config_id)
     VALUES ($1, 'user', $2::jsonb, 1, $3) RETURNING id::text AS id`,
    [chatId, JSON.stringify([{ type: 'text', text }]), modelConfigId],
  );
  return row.id;
}

/** Everything a listener delivers, in delivery order. */
export function collect(listener: EventListener): EventRow[] {
  const received: EventRow[] = [];
  listener.onBatch((batch) => received.push(...batch));
  return received;
}

/** Pulls exactly `n` events from a subscription (fails the test if they do not arrive in time). */
export async function take<T>(sub: EventSubscription<T>, n: number, timeoutMs = 10_000): Promise<HubEvent<T>[]> {
  const out: HubEvent<T>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${out.length} of ${n} events`)), Math.max(left, 1));
    });
    try {
      const next = await Promise.race([sub.next(), timeout]);
      if (next.done) throw new Error(`subscription ended after ${out.length} of ${n} events`);
      out.push(next.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/** Message ids of `message` events, in order. */
export function messageIds(events: readonly EventRow[]): string[] {
  return events.filter((e) => e.kind === 'message').map((e) => e.message_id!);
}

/** Asserts no event appears twice (by seq). */
export function expectNoDuplicates(events: readonly EventRow[]): void {
  const seqs = events.map((e) => e.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
}

/** Resolves after `ms` (used only to spread concurrent writers, never to assert absence). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
