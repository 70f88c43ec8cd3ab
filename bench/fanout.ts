// Fan-out benchmark (the fan-out performance target): event → client p99 with 5,000 open subscriptions on one
// process, one LISTEN connection whatever the subscriber count, memory per idle subscription.
// Usage: npx tsx bench/fanout.ts [--subscriptions 5000] [--events 20]  (or via npm run bench)
import { fork } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/index.js';
import { buildApp } from '../src/server.js';
import WebSocket from 'ws';
import { arg, runStandalone, scenarioDatabase } from './lib/scenario.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export interface FanoutResult {
  subscriptions: number;
  events: number;
  delivered: number;
  expected: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  listenConnections: number;
  heapPerSubscription: number;
  rssPerSubscription: number;
  /** Server CPU per delivered event (user + system), while events flow. */
  serverCpuUsPerDelivery: number;
  /** Server CPU time / wall time while events flow, percent of one core. */
  serverCpuShare: number;
  /** Where the time goes between commit and socket, per stage: median and worst over the events. */
  stages: Array<{ stage: string; p50: number; max: number }>;
}

/** Median and maximum of `xs` (ms, one decimal). */
function medianMax(xs: number[]): { p50: number; max: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const r = (n: number | undefined) => (n === undefined ? NaN : Math.round(n * 10) / 10);
  return { p50: r(sorted[Math.floor(sorted.length / 2)]), max: r(sorted.at(-1)) };
}

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage();
};

let fanoutRuns = 0;

/** Runs the fan-out benchmark against `adminUrl` (a server where databases can be created). */
export async function runFanout(adminUrl: string, subscriptions = 5000, events = 20): Promise<FanoutResult> {
  const perConnection = 50;
  const connections = Math.ceil(subscriptions / perConnection);
  // One database per call: the bench runs it twice (5,000 live, then 20,000 idle).
  const name = `chatgraph_fanout_${process.pid}_${++fanoutRuns}`;
  const { db, url, userId, token } = await scenarioDatabase(adminUrl, name, 'fan');
  const chat = await db.one("INSERT INTO chats (owner_id, last_model_config_id) SELECT $1, id FROM chat_model_configs RETURNING id", [userId]);
  // One user holds every socket here (the per-user connection limit is for real clients).
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'warn',
    MAX_SUBSCRIPTIONS_PER_CONNECTION: String(perConnection),
    MAX_CONNECTIONS_PER_USER: String(connections),
  });
  const app = buildApp({ db, config });
  const endpoint = (await app.start(0, '127.0.0.1')).replace(/^http/, 'ws');

  // Frames the server writes, recognised by the title's stamp (see the stage timing below). The
  // server binds each socket's send when it connects, so the hook goes in before any client does.
  const marks = new Map<string, { start: number; commit?: number; notify?: number; batch?: number; firstWrite?: number; lastWrite?: number }>();
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
    const stamp = marks.size > 0 && typeof data === 'string' ? /"title":"(t\d+)"/.exec(data)?.[1] : undefined;
    const m = stamp ? marks.get(stamp) : undefined;
    if (m) {
      const now = performance.now();
      m.firstWrite ??= now;
      m.lastWrite = now;
    }
    return (send as (...a: unknown[]) => void).call(this, data, ...rest);
  } as typeof send;

  const before = await settle();
  const child = fork(new URL('./fanout-clients.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, URL: endpoint, TOKEN: token, CONNECTIONS: String(connections), PER_CONNECTION: String(perConnection) },
  });
  const messages: Array<Record<string, unknown>> = [];
  child.on('message', (m: Record<string, unknown>) => messages.push(m));
  const waitFor = async (pred: () => boolean, what: string, ms = 120_000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitFor(() => app.liveSubscriptions >= connections * perConnection, 'subscriptions');
    const idle = await settle();
    // Every connection this process holds to the database while 5,000 subscriptions are open:
    // the query pool (at most DB_POOL_SIZE, usually idle) plus the one LISTEN connection.
    const listeners = await db.one<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
      [name],
    );
    const writer = createDb(url.toString(), 1);
    // Stage timing, all on this process's clock: the writer's commit (its UPDATE returned), the
    // NOTIFY on a LISTEN connection of our own (the server's arrives at the same moment), the
    // listener's settled batch (onBatch), and the first and last frame the server writes for the
    // event (ws send, recognised by the title's stamp). The client's receipt closes the chain.
    let pending: string | undefined;
    const notifyConn = await writer.connect({ direct: true });
    notifyConn.client.on('notification', () => {
      const m = pending ? marks.get(pending) : undefined;
      if (m && m.notify === undefined) m.notify = performance.now();
    });
    await notifyConn.none('LISTEN chatgraph_events');
    const offBatch = app.eventStream.listener.onBatch(() => {
      const m = pending ? marks.get(pending) : undefined;
      if (m && m.batch === undefined) m.batch = performance.now();
    });
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    try {
      for (let i = 0; i < events; i++) {
        const title = `t${Date.now()}`;
        marks.set(title, { start: performance.now() });
        pending = title;
        await writer.none('UPDATE chats SET title = $1 WHERE id = $2', [title, chat.id]);
        marks.get(title)!.commit = performance.now();
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      pending = undefined;
      offBatch();
      await notifyConn.done();
    }
    await writer.$pool.end();
    const span = (from: 'start' | 'commit' | 'notify' | 'batch' | 'firstWrite', to: 'commit' | 'notify' | 'batch' | 'firstWrite' | 'lastWrite') =>
      [...marks.values()].filter((m) => m[from] !== undefined && m[to] !== undefined).map((m) => m[to]! - m[from]!);
    const stages = [
      { stage: 'write → commit (UPDATE returned)', ...medianMax(span('start', 'commit')) },
      { stage: 'commit → NOTIFY received', ...medianMax(span('commit', 'notify')) },
      { stage: 'NOTIFY → settled batch read (listener)', ...medianMax(span('notify', 'batch')) },
      { stage: 'batch → first frame written (load + execute + serialize)', ...medianMax(span('batch', 'firstWrite')) },
      { stage: 'first → last frame written (all sockets)', ...medianMax(span('firstWrite', 'lastWrite')) },
      { stage: 'commit → last frame written', ...medianMax(span('commit', 'lastWrite')) },
    ];
    const expected = connections * perConnection * events;
    let stats: Record<string, number> = {};
    await waitFor(() => {
      child.send({ type: 'stats' });
      const last = messages.filter((m) => m.type === 'stats').at(-1) as Record<string, number> | undefined;
      if (last) stats = last;
      return (last?.count ?? 0) >= expected;
    }, 'deliveries', 60_000).catch(() => undefined);
    const cpu = process.cpuUsage(cpuBefore);
    const serverCpuMs = (cpu.user + cpu.system) / 1000;
    const wallMs = performance.now() - wallBefore;
    const n = connections * perConnection;
    return {
      subscriptions: n,
      events,
      delivered: stats.count ?? 0,
      expected,
      p50: stats.p50 ?? NaN,
      p95: stats.p95 ?? NaN,
      p99: stats.p99 ?? NaN,
      max: stats.max ?? NaN,
      listenConnections: listeners.n,
      heapPerSubscription: Math.round((idle.heapUsed - before.heapUsed) / n),
      rssPerSubscription: Math.round((idle.rss - before.rss) / n),
      serverCpuUsPerDelivery: Math.round((serverCpuMs * 1000) / Math.max(1, stats.count ?? 0)),
      serverCpuShare: Math.round((serverCpuMs / wallMs) * 100),
      stages,
    };
  } finally {
    WebSocket.prototype.send = send;
    child.send({ type: 'close' });
    await new Promise((r) => child.once('exit', r));
    await app.stop();
    await db.$pool.end();
  }
}

/** Markdown table of one fan-out result. */
export function fanoutTable(r: FanoutResult): string {
  return [
    '| subscriptions | events | delivered / expected | p50 ms | p95 ms | p99 ms | max ms | server CPU µs / delivery | DB connections of the process | heap / idle subscription | RSS / idle subscription |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${r.subscriptions} | ${r.events} | ${r.delivered} / ${r.expected} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.max} | ${r.serverCpuUsPerDelivery} | ${r.listenConnections} | ${(r.heapPerSubscription / 1024).toFixed(1)} KiB | ${(r.rssPerSubscription / 1024).toFixed(1)} KiB |`,
    '',
    'Where the time goes (server side, per event; median and worst of the events; the client\'s receipt latency above adds the socket transfer and its own parsing):',
    '',
    '| stage | median ms | max ms |',
    '|---|---|---|',
    ...r.stages.map((x) => `| ${x.stage} | ${x.p50} | ${x.max} |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('fanout', 200, async (adminUrl) => fanoutTable(await runFanout(adminUrl, arg('subscriptions', 5000), arg('events', 20))));
}
