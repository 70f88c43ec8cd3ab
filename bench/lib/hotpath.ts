import { createDb, type Db } from '../../src/db/index.js';
import type { NewMessage } from '../../src/db/repos/messages.js';
import { benchSql } from './sql.js';

const tableStats = benchSql('table_stats.sql');

/** One phase of the hot-path benchmark. */
export interface HotPathPhase {
  name: string;
  messages: number;
  concurrency: number;
  seconds: number;
  insertsPerSecond: number;
  /** Did the chat row's version (xmin, ctid) change? */
  chatRowRewritten: boolean;
  /** pg_stat_user_tables n_tup_upd delta for chats (null when the stats did not settle in time). */
  chatsUpdated: number | null;
}

export interface HotPathResult {
  chatId: string;
  phases: HotPathPhase[];
}

interface Counters {
  chatsUpdated: number;
  messagesInserted: number;
}

/** An assistant turn as a worker appends it: text, usage and a cost already computed. */
function assistantMessage(i: number, modelConfigId: string): NewMessage {
  return {
    role: 'assistant',
    visibility: 'both',
    content: [{ type: 'text', text: `Hot-path turn ${i}: ran the tests again, all green.` }],
    model_config_id: modelConfigId,
    created_by: null,
    input_tokens: '12000',
    output_tokens: '800',
    total_tokens: '12800',
    reasoning_tokens: '0',
    cache_read_tokens: '9000',
    cache_creation_tokens: '0',
    context_limit: '200000',
    total_cost_micros: '50700',
    runtime_ms: '4200',
  };
}

async function rowVersion(db: Db, chatId: string): Promise<string> {
  const r = await db.one<{ v: string }>('SELECT xmin::text || \'/\' || ctid::text AS v FROM chats WHERE id = $1', [chatId]);
  return r.v;
}

async function counters(db: Db): Promise<Counters> {
  const r = await db.one<{ chats_updated: string; messages_inserted: string }>(tableStats);
  return { chatsUpdated: Number(r.chats_updated), messagesInserted: Number(r.messages_inserted) };
}

/**
 * Backends publish their table counters when idle (at most once a second, sometimes only after
 * a 10 s idle timer) and always at exit: each phase ends its own pool, and waiting until
 * chat_messages shows the inserts we made tells us the same backends' chats counters landed too.
 */
async function settledCounters(db: Db, expectedInserted: number): Promise<Counters | null> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const c = await counters(db);
    if (c.messagesInserted >= expectedInserted) return c;
    await new Promise((r) => setTimeout(r, 250));
  }
  return null;
}

/**
 * The message insert hot path rule measured: same-model appends through db.messages.insert (one message per call, as a
 * worker appends turns) must leave the chats row alone; a model switch rewrites it exactly once.
 * Phases: 1,000 sequential appends; 1,000 appends from 10 concurrent appenders on the same chat
 * (no row lock to queue on, since the chats row is untouched); one append on another model.
 */
export async function hotPath(url: string, viewerId: string, total = 1000): Promise<HotPathResult> {
  const observer = createDb(url, 1);
  try {
    return await phases(observer, url, viewerId, total);
  } finally {
    await observer.$pool.end();
  }
}

async function phases(db: Db, url: string, viewerId: string, total: number): Promise<HotPathResult> {
  const chat = await db.one<{ id: string; last_model_config_id: string }>(
    "SELECT id, last_model_config_id FROM chats WHERE owner_id = $1 AND status = 'waiting' AND NOT archived ORDER BY id LIMIT 1",
    [viewerId],
  );
  const other = await db.one<{ id: string }>('SELECT id FROM chat_model_configs WHERE id <> $1 AND enabled AND NOT deleted ORDER BY id LIMIT 1', [chat.last_model_config_id]);
  const phases: HotPathPhase[] = [];
  let turn = 0;

  async function phase(name: string, messages: number, concurrency: number, modelConfigId: string): Promise<void> {
    const version0 = await rowVersion(db, chat.id);
    const before = await counters(db);
    // chatgraph's pool size; connected before the clock starts.
    const writers = createDb(url, 10);
    let seconds: number;
    try {
      await Promise.all(Array.from({ length: concurrency }, () => writers.one('SELECT 1 AS ok')));
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < messages) {
            next++;
            await writers.messages.insert(chat.id, [assistantMessage(++turn, modelConfigId)], modelConfigId);
          }
        }),
      );
      seconds = (performance.now() - started) / 1000;
    } finally {
      await writers.$pool.end();
    }
    const after = await settledCounters(db, before.messagesInserted + messages);
    phases.push({
      name,
      messages,
      concurrency,
      seconds,
      insertsPerSecond: messages / seconds,
      chatRowRewritten: (await rowVersion(db, chat.id)) !== version0,
      chatsUpdated: after ? after.chatsUpdated - before.chatsUpdated : null,
    });
  }

  await phase('same model, sequential', total, 1, chat.last_model_config_id);
  await phase('same model, 10 concurrent appenders, one chat', total, 10, chat.last_model_config_id);
  await phase('model switch (one message on another model)', 1, 1, other.id);
  return { chatId: chat.id, phases };
}
