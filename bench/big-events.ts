// Large-event benchmark (the watch-stream issue's slow-consumer scenario): 50 identical chatEvents
// subscriptions (5 sockets × 10) of one chat whose queue holds ~1 MB messages, 20 queue changes.
// Two selections: the whole queue (`queuedMessages`, every event ~1 MB per subscription) and the
// small form (`queueChange`). Reports the server's peak RSS growth, its CPU per event, the bytes
// the clients received and any slow-consumer closes. The server runs in this process, the
// clients in a child process. Bounded: 20 events, 250 ms apart, 60 s at most for deliveries.
// Usage: npx tsx bench/big-events.ts [--events 20] [--size 1000000]  (or via npm run bench)
import { fork } from 'node:child_process';
import { loadConfig } from '../src/config.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { buildApp } from '../src/server.js';
import { arg, runStandalone, scenarioDatabase } from './lib/scenario.js';

export interface BigEventsResult {
  selection: string;
  subscriptions: number;
  events: number;
  messageBytes: number;
  delivered: number;
  expected: number;
  errors: number;
  closes: Record<string, number>;
  clientMiB: number;
  serverPeakRssMiB: number;
  serverRssGrowthMiB: number;
  serverCpuMsPerEvent: number;
}

const SELECTIONS = {
  'whole queue (queuedMessages)': 'subscription ($id: ID!) { chatEvents(chatId: $id) { kind version queuedMessages { id parts { ... on ChatTextPart { text } } } } }',
  'small form (queueChange)': 'subscription ($id: ID!) { chatEvents(chatId: $id) { kind version queueChange { added { id } updated { id } removedIds length } } }',
} as const;

let runs = 0;

async function runOne(adminUrl: string, selection: keyof typeof SELECTIONS, events: number, size: number): Promise<BigEventsResult> {
  const connections = 5;
  const perConnection = 10;
  const { db, userId, token } = await scenarioDatabase(adminUrl, `chatgraph_big_${process.pid}_${++runs}`, 'big');
  const chat = await db.one<{ id: string }>("INSERT INTO chats (owner_id, status, last_model_config_id) SELECT $1, 'running', id FROM chat_model_configs RETURNING id", [userId]);
  // Four queued messages of `size` bytes each: the whole queue is ~4 MB per event.
  await db.none("INSERT INTO chat_queued_messages (chat_id, content) SELECT $1, jsonb_build_array(jsonb_build_object('type', 'text', 'text', repeat('x', $2))) FROM generate_series(1, 4)", [chat.id, size]);
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn', MAX_CONNECTIONS_PER_USER: '10' });
  const app = buildApp({ db, config });
  const endpoint = (await app.start(0, '127.0.0.1')).replace(/^http/, 'ws');
  const child = fork(new URL('./big-events-clients.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, URL: endpoint, TOKEN: token, CONNECTIONS: String(connections), PER_CONNECTION: String(perConnection), QUERY: SELECTIONS[selection], CHAT_ID: encodeGlobalID('Chat', chat.id) },
  });
  const messages: Array<Record<string, unknown>> = [];
  child.on('message', (m: Record<string, unknown>) => messages.push(m));
  const waitFor = async (pred: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return pred();
  };
  try {
    await waitFor(() => app.liveSubscriptions >= connections * perConnection, 60_000);
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const cpuBefore = process.cpuUsage();
    const expected = connections * perConnection * events;
    let stats: { events: number; bytes: number; errors: number; closes: Record<string, number> } = { events: 0, bytes: 0, errors: 0, closes: {} };
    try {
      const ids = await db.map('SELECT id FROM chat_queued_messages WHERE chat_id = $1 ORDER BY id', [chat.id], (r: { id: string }) => r.id);
      for (let i = 0; i < events; i++) {
        // An edit of one queued message: one queue event, the queue still ~4 MB.
        // Postgres builds the new content, so this process spends nothing on the writer's side.
        await db.none("UPDATE chat_queued_messages SET content = jsonb_build_array(jsonb_build_object('type', 'text', 'text', repeat('x', $2) || $3)) WHERE id = $1", [ids[i % ids.length], size, String(i)]);
        await new Promise((r) => setTimeout(r, 250));
      }
      await waitFor(() => {
        child.send({ type: 'stats' });
        const last = messages.filter((m) => m.type === 'stats').at(-1) as typeof stats | undefined;
        if (last) stats = last;
        return stats.events >= expected || Object.keys(stats.closes).length > 0;
      }, 60_000);
    } finally {
      clearInterval(sampler);
    }
    const cpu = process.cpuUsage(cpuBefore);
    return {
      selection,
      subscriptions: connections * perConnection,
      events,
      messageBytes: size,
      delivered: stats.events,
      expected,
      errors: stats.errors,
      closes: stats.closes,
      clientMiB: Math.round(stats.bytes / 2 ** 20),
      serverPeakRssMiB: Math.round(peak / 2 ** 20),
      serverRssGrowthMiB: Math.round((peak - baseline) / 2 ** 20),
      serverCpuMsPerEvent: Math.round((cpu.user + cpu.system) / 1000 / events),
    };
  } finally {
    child.send({ type: 'close' });
    await new Promise((r) => child.once('exit', r));
    await app.stop();
    await db.$pool.end();
  }
}

/** Both selections, one after the other, each on its own database and server. */
export async function runBigEvents(adminUrl: string, events = 20, size = 1_000_000): Promise<BigEventsResult[]> {
  const results: BigEventsResult[] = [];
  for (const selection of Object.keys(SELECTIONS) as Array<keyof typeof SELECTIONS>) results.push(await runOne(adminUrl, selection, events, size));
  return results;
}

/** Markdown table of the big-event runs. */
export function bigEventsTable(rs: BigEventsResult[]): string {
  return [
    '| selection | subscriptions | events | delivered / expected | errors | closes | received by clients | server peak RSS | server RSS growth | process CPU / event |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rs.map((r) => `| ${r.selection} | ${r.subscriptions} | ${r.events} | ${r.delivered} / ${r.expected} | ${r.errors} | ${Object.entries(r.closes).map(([c, n]) => `${n}× ${c}`).join(', ') || 'none'} | ${r.clientMiB} MiB | ${r.serverPeakRssMiB} MiB | +${r.serverRssGrowthMiB} MiB | ${r.serverCpuMsPerEvent} ms |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('big', 100, async (adminUrl) => bigEventsTable(await runBigEvents(adminUrl, arg('events', 20), arg('size', 1_000_000))));
}
