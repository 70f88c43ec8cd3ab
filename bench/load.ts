// Load run that reconciles: concurrent users sending, a worker acquiring / appending with usage /
// finishing, readers paging dashboards and 1,000 graphql-ws subscribers, for a fixed time, on
// 127.0.0.1 only. Afterwards it checks that every accepted write is in the database exactly once,
// that every subscriber got every MESSAGE event of its chat exactly once and in order (the same
// sequence as every other subscriber of that chat), and that no request answered 5xx.
// Usage: npx tsx bench/load.ts [--write]  (or via npm run bench). Prints a markdown section on
// stdout; --write also puts it into bench/RESULTS.md in place of the previous load section.
// Knobs: BENCH_LOAD_SECONDS (20), BENCH_LOAD_USERS (20), BENCH_LOAD_SUBSCRIBERS (1000).
import './lib/env.js';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createToken, createUser } from '../src/auth/admin.js';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/index.js';
import { ensureDatabase, startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { buildApp } from '../src/server.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECONDS = num('BENCH_LOAD_SECONDS', 20);
const USERS = num('BENCH_LOAD_USERS', 20);
const SUBSCRIBERS = num('BENCH_LOAD_SUBSCRIBERS', 1000);
const CHATS_PER_USER = 5;
const PER_SOCKET = 20;

const log = (m: string) => process.stderr.write(`[load] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

interface Stats {
  statuses: Map<number, number>;
  latency: Record<'send' | 'dashboard' | 'worker' | 'event', number[]>;
}

export interface LoadResult {
  /** Seconds of load (senders and readers), then the drain until the worker is idle. */
  loadSeconds: number;
  seconds: number;
  users: number;
  subscribers: number;
  sends: { accepted: number; queued: number; rejected: number; inDbOnce: number };
  appends: { accepted: number; inDbOnce: number };
  runs: number;
  dashboards: number;
  events: { delivered: number; expectedMessages: number; subscribersComplete: number; duplicates: number; outOfOrder: number };
  http5xx: number;
  latency: Record<string, { p50: number; p95: number; p99: number }>;
  peakRssMiB: number;
  date: string;
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>, stats: Stats, kind: keyof Stats['latency']): Promise<Record<string, any>> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  stats.latency[kind].push(performance.now() - started);
  stats.statuses.set(res.status, (stats.statuses.get(res.status) ?? 0) + 1);
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 300)}`);
  return body.data!;
}

const SEND = `mutation($input: SendChatMessageInput!) { sendChatMessage(input: $input) { __typename ... on SendChatMessagePayload { queued } } }`;
const CREATE = `mutation($input: CreateChatInput!) { createChat(input: $input) { __typename ... on ChatMessagePayload { chat { id } } } }`;
const DASHBOARD = `query($after: String) { chats(first: 50, after: $after) { pageInfo { hasNextPage endCursor } nodes { id title status lastTurnSummary hasUnread
  queuedMessages { id } lastModelConfig { displayName } cost { totalCostMicros } } } }`;
const ACQUIRE = `mutation { acquireChats(input: { workerId: "load-worker", limit: 10 }) { __typename ... on AcquireChatsPayload { chats { id } } } }`;
const APPEND = `mutation($input: AppendChatMessagesInput!) { appendChatMessages(input: $input) { __typename } }`;
const FINISH = `mutation($input: FinishChatRunInput!) { finishChatRun(input: $input) { __typename } }`;
const EVENTS = `subscription($id: ID!, $after: String) { chatEvents(chatId: $id, after: $after) { cursor kind message { databaseId parts { ... on ChatTextPart { text } } } } }`;

/** Runs the load against a Postgres where databases can be created (`adminUrl`). */
export async function runLoad(adminUrl: string): Promise<LoadResult> {
  const name = `chatgraph_load_${process.pid}`;
  await ensureDatabase(adminUrl, name);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const db = createDb(dbUrl.toString(), 10);
  await migrate(db);
  await db.none("INSERT INTO chat_model_configs (provider, model, display_name, context_limit, is_default, input_price, output_price) VALUES ('p', 'm', 'Model', 100000, true, 3, 15)");
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn', PORT: '0', NODE_ENV: 'production' });
  const app = buildApp({ db, config });
  const url = await app.start(0, '127.0.0.1');
  const stats: Stats = { statuses: new Map(), latency: { send: [], dashboard: [], worker: [], event: [] } };
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const clients: Client[] = [];
  try {
    const users: Array<{ token: string; chats: string[] }> = [];
    for (let u = 0; u < USERS; u++) {
      await createUser(db, { username: `load${u}` });
      users.push({ token: (await createToken(db, { username: `load${u}` })).token, chats: [] });
    }
    await createUser(db, { username: 'load-worker' });
    const worker = (await createToken(db, { username: 'load-worker', scopes: ['worker'] })).token;
    for (const user of users) {
      for (let c = 0; c < CHATS_PER_USER; c++) {
        const data = await gql(url, user.token, CREATE, { input: { content: [{ type: 'TEXT', text: `start ${c}` }], title: `chat ${c}` } }, stats, 'send');
        user.chats.push(data.createChat.chat.id);
      }
    }

    // Subscribers: sockets of PER_SOCKET subscriptions, each socket one user's, spread over its chats.
    type Sub = { chat: string; cursors: string[]; messages: string[] };
    const subs: Sub[] = [];
    const sentAt = new Map<string, number>();
    const sockets = Math.ceil(SUBSCRIBERS / PER_SOCKET);
    let reconnects = 0;
    // One socket's subscriptions; after a close (e.g. 4008, slow consumer) the socket is opened
    // again and each subscription resumes from its last cursor, as docs/subscriptions.md tells
    // clients to, so a close costs latency, never an event.
    const openSocket = (user: (typeof users)[number], mine: Sub[]) => {
      const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authToken: user.token }, lazy: false, retryAttempts: 0 });
      clients.push(client);
      let reopened = false;
      for (const sub of mine) {
        client.subscribe<{ chatEvents: { cursor: string; kind: string; message: { databaseId: string; parts: Array<{ text?: string }> } | null } }>(
          { query: EVENTS, variables: { id: sub.chat, after: sub.cursors.at(-1) ?? null } },
          {
            next: ({ data }) => {
              if (!data) return;
              sub.cursors.push(data.chatEvents.cursor);
              if (data.chatEvents.kind === 'MESSAGE' && data.chatEvents.message) {
                sub.messages.push(data.chatEvents.message.databaseId);
                const sent = sentAt.get(data.chatEvents.message.parts[0]?.text ?? '');
                if (sent !== undefined) stats.latency.event.push(performance.now() - sent);
              }
            },
            error: (err) => {
              const code = (err as { code?: number }).code;
              log(`subscription error: ${code ?? JSON.stringify(err).slice(0, 200)}`);
              if (reopened || typeof code !== 'number' || reconnects >= 50) return;
              reopened = true;
              reconnects++;
              void client.dispose();
              openSocket(user, mine);
            },
            complete: () => undefined,
          },
        );
      }
    };
    for (let s = 0; s < sockets; s++) {
      const user = users[s % users.length]!;
      const mine: Sub[] = [];
      for (let i = 0; i < PER_SOCKET && subs.length < SUBSCRIBERS; i++) {
        const sub: Sub = { chat: user.chats[i % user.chats.length]!, cursors: [], messages: [] };
        subs.push(sub);
        mine.push(sub);
      }
      openSocket(user, mine);
    }
    const deadline = Date.now() + 30_000;
    while (app.liveSubscriptions < SUBSCRIBERS && Date.now() < deadline) await sleep(50);
    log(`${app.liveSubscriptions} subscriptions open; running ${SECONDS} s`);
    const startedAt = new Date();

    const accepted: string[] = [];
    const appended: string[] = [];
    let queued = 0;
    let rejected = 0;
    let runs = 0;
    let dashboards = 0;
    let running = true;
    const stopAt = Date.now() + SECONDS * 1000;

    const sender = async (u: number) => {
      const user = users[u]!;
      for (let n = 0; running && Date.now() < stopAt; n++) {
        const text = `send-${u}-${n}`;
        const chat = user.chats[n % user.chats.length]!;
        const data = await gql(url, user.token, SEND, { input: { chatId: chat, content: [{ type: 'TEXT', text }] } }, stats, 'send');
        if (data.sendChatMessage.__typename === 'SendChatMessagePayload') {
          accepted.push(text);
          if (data.sendChatMessage.queued) queued++;
        } else rejected++; // QueueFullError: a busy chat's queue is full
        await sleep(150);
      }
    };
    const workerLoop = async (drain: () => boolean) => {
      for (let n = 0; ; n++) {
        const t0 = performance.now();
        const chats: Array<{ id: string }> = (await gql(url, worker, ACQUIRE, {}, stats, 'worker')).acquireChats.chats;
        if (chats.length === 0) {
          if (drain()) return;
          await sleep(50);
          continue;
        }
        for (const chat of chats) {
          const text = `reply-${chat.id}-${n}`;
          sentAt.set(text, performance.now());
          await gql(url, worker, APPEND, { input: { chatId: chat.id, workerId: 'load-worker', messages: [{ role: 'ASSISTANT', parts: [{ type: 'text', text }], usage: { inputTokens: '1200', outputTokens: '300' } }] } }, stats, 'worker');
          appended.push(text);
          await gql(url, worker, FINISH, { input: { chatId: chat.id, workerId: 'load-worker', status: 'WAITING' } }, stats, 'worker');
          runs++;
        }
        stats.latency.worker.push(performance.now() - t0);
      }
    };
    const reader = async (r: number) => {
      while (running && Date.now() < stopAt) {
        let after: string | null = null;
        do {
          const data = await gql(url, users[(r * 7 + dashboards) % users.length]!.token, DASHBOARD, { after }, stats, 'dashboard');
          dashboards++;
          after = data.chats.pageInfo.hasNextPage ? data.chats.pageInfo.endCursor : null;
        } while (after);
      }
    };
    const t0 = performance.now();
    const work = [...users.map((_, u) => sender(u)), ...Array.from({ length: 5 }, (_, r) => reader(r))];
    const workerDone = workerLoop(() => !running);
    await Promise.all(work);
    running = false;
    // Drain: the worker finishes every run that is still pending (queued sends promote one per run).
    await workerDone;
    const elapsed = (performance.now() - t0) / 1000;
    // Let the last events reach every subscriber.
    let lastCount = -1;
    for (let i = 0; i < 100; i++) {
      const count = subs.reduce((n, s) => n + s.cursors.length, 0);
      if (count === lastCount) break;
      lastCount = count;
      await sleep(300);
    }

    // Reconcile the database.
    const inDb = async (texts: string[]) => {
      const rows = await db.any<{ text: string; n: number }>(
        `SELECT x.text, (SELECT count(*) FROM chat_messages m WHERE m.content @> jsonb_build_array(jsonb_build_object('text', x.text)))::int
              + (SELECT count(*) FROM chat_queued_messages q WHERE q.content @> jsonb_build_array(jsonb_build_object('text', x.text)))::int AS n
         FROM unnest($1::text[]) AS x(text)`,
        [texts],
      );
      return rows.filter((r) => r.n === 1).length;
    };
    const sendsOnce = await inDb(accepted);
    const appendsOnce = await inDb(appended);
    // Every visible message created in a chat since the run started is one MESSAGE event for each of its subscribers.
    const expectedByChat = new Map<string, string[]>();
    const rows = await db.any<{ chat_id: string; id: string }>(
      `SELECT m.chat_id, m.id::text AS id FROM chat_messages m WHERE m.created_at >= $1 AND m.visibility <> 'model' ORDER BY m.id`,
      [startedAt],
    );
    const { decodeGlobalID } = await import('@pothos/plugin-relay');
    for (const row of rows) expectedByChat.set(row.chat_id, [...(expectedByChat.get(row.chat_id) ?? []), row.id]);
    let complete = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    let expectedMessages = 0;
    for (const sub of subs) {
      const expected = expectedByChat.get(decodeGlobalID(sub.chat).id) ?? [];
      expectedMessages += expected.length;
      const got = sub.messages.filter((id) => expected.includes(id));
      duplicates += sub.cursors.length - new Set(sub.cursors).size;
      if (JSON.stringify(got) === JSON.stringify(expected)) complete++;
      else if (new Set(got).size === expected.length) {
        outOfOrder++;
        if (outOfOrder === 1) log(`out of order: got ${got.slice(0, 12).join(',')} expected ${expected.slice(0, 12).join(',')}`);
      }
    }
    const http5xx = [...stats.statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    const lat = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), p99: percentile(xs, 99) });
    return {
      loadSeconds: SECONDS,
      seconds: Math.round(elapsed * 10) / 10,
      users: USERS,
      subscribers: subs.length,
      sends: { accepted: accepted.length, queued, rejected, inDbOnce: sendsOnce },
      appends: { accepted: appended.length, inDbOnce: appendsOnce },
      runs,
      dashboards,
      events: { delivered: subs.reduce((n, s) => n + s.messages.length, 0), expectedMessages, subscribersComplete: complete, duplicates, outOfOrder },
      http5xx,
      latency: { send: lat(stats.latency.send), dashboard: lat(stats.latency.dashboard), 'worker turn (acquire + append + finish per batch)': lat(stats.latency.worker), 'event (worker append → subscriber)': lat(stats.latency.event) },
      peakRssMiB: Math.round(peakRss / 1024 / 1024),
      date: new Date().toISOString(),
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(clients.map((c) => c.dispose()));
    await app.stop();
    await db.$pool.end();
  }
}

/** The markdown section bench/RESULTS.md carries for a load run. */
export function loadSection(r: LoadResult): string {
  const ok = r.sends.inDbOnce === r.sends.accepted && r.appends.inDbOnce === r.appends.accepted && r.events.subscribersComplete === r.subscribers && r.events.duplicates === 0 && r.http5xx === 0;
  return [
    '## Load run that reconciles (bench/load.ts)',
    '',
    `${r.users} users sending (one send per 150 ms each), one worker acquiring / appending with usage / finishing, 5 readers paging dashboards, ${r.subscribers} graphql-ws \`chatEvents\` subscribers (10 per chat), for ${r.loadSeconds} s, then the drain until the worker was idle (${r.seconds} s in all); server and load generator in one process on 127.0.0.1 (${r.date}, \`npx tsx bench/load.ts\`). **Reconciled: ${ok ? 'yes' : 'NO'}**.`,
    '',
    '| measure | result |',
    '|---|---|',
    `| sends accepted (queued / refused with QueueFullError) | ${r.sends.accepted} (${r.sends.queued} / ${r.sends.rejected}), ${(r.sends.accepted / r.loadSeconds).toFixed(1)}/s |`,
    `| accepted sends in the database exactly once | ${r.sends.inDbOnce} / ${r.sends.accepted} |`,
    `| worker appends (with usage) / runs finished | ${r.appends.accepted} / ${r.runs} (${(r.runs / r.seconds).toFixed(1)} runs/s) |`,
    `| appends in the database exactly once | ${r.appends.inDbOnce} / ${r.appends.accepted} |`,
    `| dashboard pages read | ${r.dashboards} (${(r.dashboards / r.loadSeconds).toFixed(1)}/s) |`,
    `| MESSAGE events delivered / expected (all subscribers) | ${r.events.delivered} / ${r.events.expectedMessages} |`,
    `| subscribers with every message of their chat exactly once, in order | ${r.events.subscribersComplete} / ${r.subscribers} (duplicate cursors: ${r.events.duplicates}, complete but out of order: ${r.events.outOfOrder}) |`,
    `| HTTP 5xx | ${r.http5xx} |`,
    ...Object.entries(r.latency).map(([k, v]) => `| latency ${k}, p50 / p95 / p99 ms | ${v.p50} / ${v.p95} / ${v.p99} |`),
    `| peak RSS of the process (server + clients) | ${r.peakRssMiB} MiB |`,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = mkdtempSync(join(tmpdir(), 'chatgraph-load-'));
  chmodSync(dir, 0o755);
  const pg = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ pgdata: join(dir, 'pg'), ephemeral: true, maxConnections: 100 });
  let code = 0;
  try {
    const result = await runLoad(process.env.DATABASE_URL ?? pg!.url('postgres'));
    const section = loadSection(result);
    process.stdout.write(`${section}\n`);
    if (process.argv.includes('--write')) {
      const file = new URL('./RESULTS.md', import.meta.url).pathname;
      const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
      const start = old.indexOf('## Load run that reconciles');
      const end = start < 0 ? -1 : old.indexOf('\n## ', start + 1);
      const next = start < 0 ? `${old.trimEnd()}\n\n${section}` : `${old.slice(0, start)}${section}${end < 0 ? '' : old.slice(end + 1)}`;
      writeFileSync(file, `${next.trimEnd()}\n`);
    }
  } catch (err) {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    code = 1;
  } finally {
    await pg?.stop();
  }
  process.exit(code);
}
