import type { MachineFacts } from './machine.js';
import type { HotPathResult } from './hotpath.js';
import type { SeedResult } from './seed.js';

/** Everything one `npm run bench` measured, rendered into bench/RESULTS.md. */
import { bigEventsTable, type BigEventsResult } from '../big-events.js';
import { fanoutTable, type FanoutResult } from '../fanout.js';
import { headlineComment, headlineTable, type Headline } from './headline.js';
import { partsDescription, partsTable, type PartsResult } from '../parts.js';

export interface Report {
  date: string;
  command: string;
  machine: MachineFacts;
  postgres: string;
  databaseSource: string;
  loadBefore: string;
  loadAfter: string;
  totalSeconds: number;
  seed: SeedResult;
  settings: { connections: number; warmupSeconds: number; seconds: number; rounds: number; poolSize: number };
  targets: TargetInfo[];
  load: LoadResult[];
  floorMatchesChatgraph: boolean | null;
  postgraphileSamePage: string | null;
  postgraphileError: string | null;
  chatgraphStatements50: string[] | null;
  hotPath: HotPathResult | null;
  fanout: FanoutResult | null;
  parts: PartsResult | null;
  /** Markdown printed by bench/costs.ts, or null when skipped. */
  costs: string | null;
  /** 20,000 idle subscriptions: memory only (no events). */
  idle: FanoutResult | null;
  bigEvents: BigEventsResult[] | null;
  /** The previous RESULTS.md's headline, printed beside this run's. */
  previous: Headline | null;
}

/** One measured load run against one server. */
/** One autocannon run of one target (bench/peers/load.ts). */
export interface LoadResult {
  target: string;
  round: number;
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers plus connection errors and timeouts: any of them invalidates the run. */
  failures: number;
  serverCpuMsPerRequest: number;
  /** Postgres CPU (all its processes) per request; null when the server is not ours (DATABASE_URL). */
  postgresCpuMsPerRequest: number | null;
  serverRssMiB: number;
  loadAverage: string;
}

export interface TargetInfo {
  name: string;
  what: string;
  responseBytes: number | null;
  statements10: number | null;
  statements50: number | null;
  startSeconds: number | null;
}

const f1 = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(1));
const f2 = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(2));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function summary(load: LoadResult[], target: string) {
  const runs = load.filter((r) => r.target === target);
  if (runs.length === 0) return null;
  const pg = runs.map((r) => r.postgresCpuMsPerRequest).filter((x): x is number => x !== null);
  return {
    rps: mean(runs.map((r) => r.rps)),
    perRound: runs.map((r) => r.rps.toFixed(0)).join(' / '),
    p50: mean(runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    cpu: mean(runs.map((r) => r.serverCpuMsPerRequest)),
    pgCpu: pg.length ? mean(pg) : null,
    failures: runs.reduce((a, r) => a + r.failures, 0),
  };
}

/** This run's headline figures (the ones RESULTS.md compares with the previous run). */
export function headlineOf(r: Report): Headline {
  const figures: Record<string, string> = {};
  for (const t of r.targets) {
    const m = summary(r.load, t.name);
    if (!m) continue;
    figures[`${t.name}: req/s`] = m.rps.toFixed(0);
    figures[`${t.name}: p99 ms`] = f1(m.p99);
    figures[`${t.name}: server CPU ms/req`] = f2(m.cpu);
    figures[`${t.name}: Postgres CPU ms/req`] = f2(m.pgCpu);
  }
  const cg = summary(r.load, 'chatgraph');
  const floor = summary(r.load, 'floor');
  const peer = summary(r.load, 'chatgraph, peer fields');
  const pgl = summary(r.load, 'postgraphile');
  if (cg && floor) figures['floor / chatgraph'] = `${(floor.rps / cg.rps).toFixed(2)}×`;
  if (peer && pgl) figures['chatgraph / PostGraphile, same fields'] = `${(peer.rps / pgl.rps).toFixed(2)}×`;
  if (r.fanout) {
    figures['fan-out: delivered / expected'] = `${r.fanout.delivered} / ${r.fanout.expected}`;
    figures['fan-out: p50 ms'] = String(r.fanout.p50);
    figures['fan-out: p99 ms'] = String(r.fanout.p99);
  }
  for (const b of r.bigEvents ?? []) figures[`large events, ${b.selection}: server RSS growth`] = `+${b.serverRssGrowthMiB} MiB`;
  if (r.idle) {
    figures['20,000 idle subscriptions: heap / subscription'] = `${(r.idle.heapPerSubscription / 1024).toFixed(1)} KiB`;
    figures['20,000 idle subscriptions: RSS / subscription'] = `${(r.idle.rssPerSubscription / 1024).toFixed(1)} KiB`;
  }
  const cost = (label: string, key: string) => {
    const m = r.costs ? new RegExp(`^\\| ${label}[^|]* \\| \\d+ \\| ([\\d.]+) \\|`, 'm').exec(r.costs) : null;
    if (m) figures[key] = m[1]!;
  };
  cost('costSummary, 30 days \\(100k msgs\\)', 'costSummary 30 days: p50 ms');
  cost('costUsers first 50', 'costUsers first 50: p50 ms');
  return { date: r.date, loadAverage: r.loadBefore, figures };
}

export function renderReport(r: Report): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line('# chatgraph benchmark results');
  line();
  line(`Written by \`${r.command}\` on ${r.date} (whole run ${r.totalSeconds.toFixed(0)} s). See bench/README.md for what each part measures.`);
  line();
  line('## Headline, beside the previous run');
  line();
  line('The same figures from the RESULTS.md this run replaced, so a regression shows here; figures from different runs');
  line('are only comparable when the load averages are similar (this machine is shared).');
  line();
  const headline = headlineOf(r);
  for (const l of headlineTable(headline, r.previous)) line(l);
  line();
  line('## Machine');
  line();
  line('| fact | value |');
  line('|---|---|');
  line(`| nproc | ${r.machine.nproc} |`);
  line(`| CPU | ${r.machine.cpuModel} |`);
  line(`| memory | ${r.machine.memoryGiB} GiB |`);
  line(`| kernel | ${r.machine.kernel} |`);
  line(`| node | ${r.machine.node} |`);
  line(`| Postgres | ${r.postgres} |`);
  line(`| database | ${r.databaseSource} |`);
  line(`| load average (1/5/15 min) at start | ${r.loadBefore} |`);
  line(`| load average at end | ${r.loadAfter} |`);
  line();
  line('The load generator (autocannon), the server under test and Postgres share these cores, as on a');
  line('single-box deployment; any other work on the machine shows up in the load averages above and in');
  line('the per-run load column below, and makes every figure lower and noisier than on a quiet machine.');
  line();

  line('## Data set');
  line();
  line(`Seeded in ${r.seed.seconds.toFixed(1)} s by bench/sql/seed.sql (generate_series, deterministic)` +
    (r.seed.triggersBypassed ? ', with the watch-stream triggers bypassed (session_replication_role = replica)' : '') + ':');
  line();
  line('| table | rows |');
  line('|---|---|');
  for (const [table, n] of Object.entries(r.seed.counts)) line(`| ${table} | ${n} |`);
  line();

  line('## Dashboard throughput (side by side, same database, same run)');
  line();
  const s = r.settings;
  line(`autocannon, ${s.connections} connections, POST /graphql, ${s.warmupSeconds} s warm-up then ${s.seconds} s measured, ` +
    `${s.rounds} round(s) in alternating order; each server in its own node process with NODE_ENV=production and a ` +
    `pool of ${s.poolSize} connections. Latency p50 is the mean over rounds, p99 the worst round.`);
  line();
  line('| server | req/s (mean) | req/s per round | p50 ms | p99 ms | server CPU ms/req | Postgres CPU ms/req | SQL statements/req (first 10 / 50) | response bytes | failed requests |');
  line('|---|---|---|---|---|---|---|---|---|---|');
  for (const t of r.targets) {
    const m = summary(r.load, t.name);
    const stmts = `${t.statements10 ?? 'n/a'} / ${t.statements50 ?? 'n/a'}`;
    if (!m) {
      line(`| ${t.name} | not run | | | | | | ${stmts} | ${t.responseBytes ?? 'n/a'} | |`);
      continue;
    }
    line(`| ${t.name} | **${m.rps.toFixed(0)}** | ${m.perRound} | ${f1(m.p50)} | ${f1(m.p99)} | ${f2(m.cpu)} | ${f2(m.pgCpu)} | ${stmts} | ${t.responseBytes ?? 'n/a'} | ${m.failures} |`);
  }
  line();
  const cg = summary(r.load, 'chatgraph');
  const floor = summary(r.load, 'floor');
  const pgl = summary(r.load, 'postgraphile');
  if (cg && floor) {
    const ratio = floor.rps / cg.rps;
    line(`- **floor / chatgraph = ${ratio.toFixed(2)}×** (target: chatgraph within 1.5× of the floor: ${ratio <= 1.5 ? 'met' : 'NOT met'}).`);
  }
  const peer = summary(r.load, 'chatgraph, peer fields');
  if (cg && pgl) line(`- chatgraph (full dashboard) / PostGraphile = ${(cg.rps / pgl.rps).toFixed(2)}× (the work differs: PostGraphile's query has no turn summary, unread flag, cost or children).`);
  if (peer && pgl) line(`- **chatgraph / PostGraphile on the same fields = ${(peer.rps / pgl.rps).toFixed(2)}×** (target: chatgraph should match or beat PostGraphile: ${peer.rps >= pgl.rps ? 'met' : 'NOT met'}).`);
  if (r.floorMatchesChatgraph !== null) {
    line(`- The floor's response body is ${r.floorMatchesChatgraph ? 'identical to' : 'DIFFERENT from'} chatgraph's for the same page (parsed JSON compared deeply, first: 10 and first: 50).`);
  }
  if (r.postgraphileSamePage) line(`- PostGraphile page check: ${r.postgraphileSamePage}.`);
  if (r.postgraphileError) line(`- PostGraphile did not run: ${r.postgraphileError}`);
  line();
  line('What each server answers:');
  line();
  for (const t of r.targets) line(`- **${t.name}**: ${t.what}${t.startSeconds !== null ? ` (ready in ${t.startSeconds.toFixed(1)} s)` : ''}`);
  line();
  line('Per run:');
  line();
  line('| round | server | requests | req/s | p50 ms | p99 ms | server CPU ms/req | Postgres CPU ms/req | server RSS MiB | load average after |');
  line('|---|---|---|---|---|---|---|---|---|---|');
  for (const x of r.load) {
    line(`| ${x.round} | ${x.target} | ${x.requests} | ${x.rps.toFixed(0)} | ${f1(x.p50)} | ${f1(x.p99)} | ${f2(x.serverCpuMsPerRequest)} | ${f2(x.postgresCpuMsPerRequest)} | ${x.serverRssMiB.toFixed(0)} | ${x.loadAverage} |`);
  }
  line();
  if (r.chatgraphStatements50) {
    line('chatgraph statements for one dashboard request (first: 50), counted with `onQuery`:');
    line();
    for (const [i, q] of r.chatgraphStatements50.entries()) line(`${i + 1}. \`${q.replace(/\s+/g, ' ').replace(/`/g, "'").slice(0, 110)}…\``);
    line();
  }

  line('## Message insert hot path');
  line();
  if (r.hotPath) {
    line(`Appends through \`db.messages.insert\` (src/db/repos/messages.ts), one assistant message per call, to chat ${r.hotPath.chatId}; ` +
      'each phase uses a fresh pool of 10 (connected before the clock starts). "Rewritten" compares the chat row\'s `xmin`/`ctid` before and after; ' +
      '`n_tup_upd` is the `pg_stat_user_tables` delta for `chats`.');
    line();
    line('| phase | messages | concurrency | inserts/s | chats row rewritten | chats n_tup_upd delta |');
    line('|---|---|---|---|---|---|');
    for (const p of r.hotPath.phases) {
      line(`| ${p.name} | ${p.messages} | ${p.concurrency} | ${p.messages > 1 ? p.insertsPerSecond.toFixed(0) : 'n/a'} | ${p.chatRowRewritten ? 'yes' : 'no'} | ${p.chatsUpdated ?? 'stats did not settle'} |`);
    }
    line();
    const same = r.hotPath.phases.filter((p) => p.name.startsWith('same model'));
    const sw = r.hotPath.phases.find((p) => p.name.startsWith('model switch'));
    const ok = same.every((p) => !p.chatRowRewritten && p.chatsUpdated === 0) && sw?.chatRowRewritten === true && sw.chatsUpdated === 1;
    line(`The message insert hot path rule (same-model inserts rewrite zero chats rows; a switch rewrites exactly one): **${ok ? 'holds' : 'VIOLATED'}**.`);
  } else {
    line('Not run.');
  }
  line();

  line('## Fan-out and memory per idle subscription');
  line();
  if (r.fanout) {
    const f = r.fanout;
    line(`bench/fanout.ts: ${f.subscriptions} chatWatch subscriptions of one user over ${Math.ceil(f.subscriptions / 50)} graphql-ws sockets (50 each), ` +
      `opened by a separate client process; ${f.events} title changes written 250 ms apart by another connection; latency = client receipt time minus the ` +
      'write time carried in the title (same clock), so it includes commit, NOTIFY, settle read, load, execution, socket write and the client\'s own parsing ' +
      '(the client process shares the 2 cores). Memory = server heap/RSS growth after GC from 0 to all subscriptions idle, divided by the subscription count.');
    line();
    line(fanoutTable(f));
    line();
    if (r.idle) {
      line();
      line(`Idle memory at ${r.idle.subscriptions} subscriptions (${Math.ceil(r.idle.subscriptions / 50)} sockets, no events): ` +
        `${(r.idle.heapPerSubscription / 1024).toFixed(1)} KiB heap and ${(r.idle.rssPerSubscription / 1024).toFixed(1)} KiB RSS per subscription ` +
        `(${((r.idle.heapPerSubscription * r.idle.subscriptions) / 2 ** 20).toFixed(0)} MiB heap in all).`);
      line();
    }
    line(`Target: p99 ≤ 100 ms with 5,000 subscriptions: **${f.p99 <= 100 ? 'met' : 'not met'}** (p99 ${f.p99} ms). ` +
      `One LISTEN connection per process whatever the subscriber count: the process held ${f.listenConnections} database connections in all (query pool + 1 LISTEN) with ${f.subscriptions} subscriptions open.`);
  } else {
    line('Not run.');
  }
  line();

  line('## Large events: one serialisation, small queue events');
  line();
  if (r.bigEvents) {
    line('bench/big-events.ts: 50 identical chatEvents subscriptions (5 graphql-ws sockets × 10) of one chat whose queue holds four ~1 MB messages; 20 edits of a queued message 250 ms apart (Postgres builds the content, so this process does no writer work); clients in a child process. ' +
      'Each result is serialised once and sent as one shared buffer (src/webSocketFrames.ts). "whole queue" selects `queuedMessages` (~4 MB per event per subscription); "small form" selects `queueChange`. ' +
      'Server peak RSS and growth are of the bench process (the server), sampled every 10 ms from the moment all subscriptions are open; CPU is the whole process (all threads, GC included) per event. A client that cannot parse 200 MB per event is closed as a slow consumer (4008) by design.');
    line();
    line(bigEventsTable(r.bigEvents));
  } else {
    line('Not run (BENCH_SKIP_BIG_EVENTS=1).');
  }
  line();

  line('## Streamed message parts');
  line();
  if (r.parts) {
    line(partsDescription(r.parts));
  } else {
    line('Not run (BENCH_SKIP_PARTS=1).');
  }
  line();

  line('## Cost analytics');
  line();
  if (r.costs) {
    line('bench/costs.ts (run by `npm run bench`, alone: `npx tsx bench/costs.ts`, `--plans` prints the EXPLAIN plans): its own embedded Postgres with fsync off, a 750k-message table, costSummary and costUsers through yoga.fetch.');
    line();
    line(r.costs.replace(/^## .*\n\n/, ''));
  } else {
    line('Not run (BENCH_SKIP_COSTS=1).');
  }
  line();

  line('## Notes');
  line();
  line('- Server CPU is `process.cpuUsage()` of the server process over the measured window divided by the requests completed; ' +
    'Postgres CPU is the same window read from /proc for the postmaster and all its children (backends of every pool, ' +
    'background workers, exited children through cutime), so it needs the embedded server (n/a with DATABASE_URL).');
  line('- PostGraphile 5.1 declares node >= 22 and calls `Promise.withResolvers`; on node 20 every query failed with ' +
    '"Cannot read properties of undefined (reading \'items\')". Its child installs the standard ES2024 shim ' +
    '(bench/servers/promise-with-resolvers.ts); no other node 22 API is used by its runtime code.');
  line('- PostGraphile only offers `condition` on indexed columns by default; `chats.archived` has no index and ' +
    '`parent_chat_id` only a partial one, so `PgIndexBehaviorsPlugin` is disabled to express the same filter ' +
    '(owner, not archived, root chats). At start-up it warns that it cannot build a codec for `chat_events.xid` (xid8), a table the dashboard does not touch.');
  line('- The floor finishes `lastTurnSummary` in node: Postgres\' regexp (or translate) whitespace collapse cost about 70 µs ' +
    'per summary here, ~3.5 ms of database CPU per page, against microseconds in V8.');
  line();
  line(headlineComment(headline));
  line();
  return out.join('\n');
}
