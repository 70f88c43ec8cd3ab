import './lib/env.js'; // first: sets LOG_LEVEL before chatgraph's logger loads
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { startServer, type ServerProcess } from './lib/children.js';
import { benchDb, openBenchDatabase, type BenchDatabase } from './lib/database.js';
import { hotPath } from './lib/hotpath.js';
import { measure } from './peers/load.js';
import { loadAverage, machineFacts } from './lib/machine.js';
import { runBigEvents } from './big-events.js';
import { runFanout } from './fanout.js';
import { runParts } from './parts.js';
import { renderReport, type LoadResult, type Report, type TargetInfo } from './lib/report.js';
import { seed } from './lib/seed.js';
import { previousHeadline } from './lib/headline.js';

/**
 * `npm run bench`: starts a Postgres (or uses DATABASE_URL), seeds it, measures the dashboard
 * query on chatgraph, a hand-written SQL floor and PostGraphile side by side, then the message
 * insert hot path, and writes bench/RESULTS.md. Everything is bounded in time and stopped at the
 * end; Ctrl-C stops it early and still cleans up. Knobs (environment): BENCH_SECONDS (10),
 * BENCH_WARMUP_SECONDS (3), BENCH_ROUNDS (2), BENCH_CONNECTIONS (10), BENCH_HOTPATH_MESSAGES
 * (1000), BENCH_SKIP_POSTGRAPHILE=1, BENCH_SKIP_PARTS=1, BENCH_SKIP_BIG_EVENTS=1, BENCH_PARTS_SECONDS (10), BENCH_OUTPUT (bench/RESULTS.md), BENCH_VERBOSE=1 (servers' stderr),
 * BENCH_CPU_PROFILE=<dir> (a V8 .cpuprofile per server, written when it stops).
 */
const benchDir = dirname(fileURLToPath(import.meta.url));

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}

const settings = {
  connections: intEnv('BENCH_CONNECTIONS', 10, 1, 200),
  warmupSeconds: intEnv('BENCH_WARMUP_SECONDS', 3, 0, 60),
  seconds: intEnv('BENCH_SECONDS', 10, 1, 120),
  rounds: intEnv('BENCH_ROUNDS', 2, 1, 5),
  poolSize: 10, // chatgraph's default DB_POOL_SIZE; the floor and PostGraphile get the same
};
const hotPathMessages = intEnv('BENCH_HOTPATH_MESSAGES', 1000, 1, 100_000);
const output = process.env.BENCH_OUTPUT ?? join(benchDir, 'RESULTS.md');

const DASHBOARD = readFileSync(join(benchDir, 'queries', 'dashboard.graphql'), 'utf8');
const PEER_FIELDS = readFileSync(join(benchDir, 'queries', 'dashboard-peer.graphql'), 'utf8');
const POSTGRAPHILE_DASHBOARD = readFileSync(join(benchDir, 'queries', 'postgraphile.graphql'), 'utf8');

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** The exact invocation, with the knobs that were set (DATABASE_URL is named, never printed). */
function commandLine(): string {
  const knobs = Object.keys(process.env)
    .filter((k) => k.startsWith('BENCH_') && k !== 'BENCH_DATABASE_URL')
    .sort()
    .map((k) => `${k}=${process.env[k]}`);
  if (process.env.DATABASE_URL) knobs.push('DATABASE_URL=…');
  const base = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : `tsx ${relative(process.cwd(), fileURLToPath(import.meta.url))}`;
  return [...knobs, base].join(' ');
}

interface Target {
  info: TargetInfo;
  server: ServerProcess | null;
  /** Measured on another target's process (same server, another query). */
  sharesServerOf?: string;
  request(first: number): { headers: Record<string, string>; body: string };
}

async function post(url: string, req: { headers: Record<string, string>; body: string }): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...req.headers }, body: req.body });
  return { status: res.status, text: await res.text() };
}

/** One request must succeed with a full page before a server is measured: a fast error page is no result. */
async function checkPage(target: Target, first: number): Promise<{ text: string; json: { data?: { chats?: { nodes?: unknown[]; totalCount?: number } }; errors?: unknown } }> {
  const res = await post(target.server!.url, target.request(first));
  const json = JSON.parse(res.text) as { data?: { chats?: { nodes?: unknown[]; totalCount?: number } }; errors?: unknown };
  if (res.status !== 200 || json.errors || json.data?.chats?.nodes?.length !== first) {
    throw new Error(`${target.info.name} answered ${res.status} for first: ${first}: ${res.text.slice(0, 300)}`);
  }
  return { text: res.text, json };
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadAverage();
  const machine = machineFacts();
  log(`machine: ${machine.nproc} cores, load ${loadBefore}; starting Postgres`);

  const cleanups: Array<() => Promise<void>> = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const fn of cleanups.reverse()) await fn().catch((err) => log(`cleanup: ${String(err)}`));
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping servers and Postgres`);
      void cleanup().then(() => process.exit(130));
    });
  }

  try {
    const database: BenchDatabase = await openBenchDatabase();
    cleanups.push(() => database.close());
    const db = benchDb(database.url, 2);
    const { version: postgres } = await db.one<{ version: string }>("SELECT split_part(version(), ' on ', 1) || ' (' || current_setting('server_version') || ')' AS version");
    log(`${postgres}; seeding`);
    const seeded = await seed(db);
    await db.$pool.end();
    log(`seeded in ${seeded.seconds.toFixed(1)} s: ${JSON.stringify(seeded.counts)}`);

    // Servers, each in its own process; all three stay up (idle when not measured).
    const env = { BENCH_DATABASE_URL: database.url, BENCH_POOL_SIZE: String(settings.poolSize) };
    const auth = { authorization: `Bearer ${seeded.token}` };
    const targets: Target[] = [
      {
        info: { name: 'chatgraph', what: 'the README dashboard query (bench/queries/dashboard.graphql): 50 root chats with model config + pricing, diff status, queued messages (parts, model), turn summary, unread flag, cost totals (chat + sub-agents) and children, totalCount and pageInfo; bearer token checked per request', responseBytes: null, statements10: null, statements50: null, startSeconds: null },
        server: null,
        request: (first) => ({ headers: auth, body: JSON.stringify({ query: DASHBOARD, variables: { first } }) }),
      },
      {
        info: { name: 'floor', what: 'bench/servers/floor.ts: node:http + pg-promise, the same data for the same page from one hand-written statement (bench/sql/floor_dashboard.sql, a named prepared statement) that checks the token and builds the response JSON in Postgres; node parses it, finishes the turn summaries and stringifies it', responseBytes: null, statements10: null, statements50: null, startSeconds: null },
        server: null,
        request: (first) => ({ headers: auth, body: JSON.stringify({ query: DASHBOARD, variables: { first } }) }),
      },
    ];
    if (process.env.BENCH_SKIP_POSTGRAPHILE !== '1') {
      targets.push({
        info: { name: 'chatgraph, peer fields', what: "the chatgraph process above asked only for what the PostGraphile query returns (bench/queries/dashboard-peer.graphql: no turn summary, unread flag, cost or children), to compare the two on the same work", responseBytes: null, statements10: null, statements50: null, startSeconds: null },
        server: null,
        sharesServerOf: 'chatgraph',
        request: (first) => ({ headers: auth, body: JSON.stringify({ query: PEER_FIELDS, variables: { first } }) }),
      });
      targets.push({
        info: { name: 'postgraphile', what: 'PostGraphile 5 (amber preset + @graphile/simplify-inflection, grafserv node adaptor), bench/queries/postgraphile.graphql: 50 root chats of the owner by updated_at desc with model config (name, prices), diff status and queued messages (content, model) plus totalCount and pageInfo; no turn summary, unread flag, cost or children, and no auth (owner passed as a condition)', responseBytes: null, statements10: null, statements50: null, startSeconds: null },
        server: null,
        request: (first) => ({ headers: {}, body: JSON.stringify({ query: POSTGRAPHILE_DASHBOARD, variables: { owner: seeded.userId, first } }) }),
      });
    }
    let postgraphileError: string | null = null;
    for (const target of targets) {
      if (target.sharesServerOf) {
        target.server = targets.find((t) => t.info.name === target.sharesServerOf)?.server ?? null;
        continue;
      }
      const t0 = performance.now();
      // PostGraphile lives with the other bench-only dependencies in bench/peers/ (own node_modules).
      const script = target.info.name === 'postgraphile' ? '../peers/postgraphile.ts' : `${target.info.name}.ts`;
      try {
        target.server = await startServer(target.info.name, script, env);
      } catch (err) {
        if (target.info.name !== 'postgraphile') throw err;
        postgraphileError = String(err instanceof Error ? err.message : err);
        log(`PostGraphile did not start: ${postgraphileError}`);
        continue;
      }
      cleanups.push(() => target.server!.stop());
      target.info.startSeconds = (performance.now() - t0) / 1000;
      log(`${target.info.name} listening on ${target.server.url} (${target.info.startSeconds.toFixed(1)} s)`);
    }
    const running = targets.filter((t) => t.server);

    // Correctness before speed: every server returns a full page; the floor returns chatgraph's exact data.
    let floorMatchesChatgraph: boolean | null = null;
    let postgraphileSamePage: string | null = null;
    const pages = new Map<string, Awaited<ReturnType<typeof checkPage>>>();
    for (const target of running) {
      try {
        for (const first of [10, 50]) pages.set(`${target.info.name}:${first}`, await checkPage(target, first));
        target.info.responseBytes = Buffer.byteLength(pages.get(`${target.info.name}:50`)!.text);
      } catch (err) {
        if (target.info.name !== 'postgraphile') throw err;
        postgraphileError = String(err instanceof Error ? err.message : err);
        log(`PostGraphile failed its check: ${postgraphileError}`);
        await target.server!.stop();
        target.server = null;
      }
    }
    floorMatchesChatgraph = [10, 50].every((first) => isDeepStrictEqual(pages.get(`chatgraph:${first}`)?.json, pages.get(`floor:${first}`)?.json));
    const pglPage = pages.get('postgraphile:50')?.json.data?.chats;
    if (pglPage) {
      const ours = pages.get('chatgraph:50')!.json.data!.chats!;
      const titles = (nodes: unknown[] | undefined) => (nodes ?? []).map((n) => (n as { title: string }).title);
      const sameOrder = isDeepStrictEqual(titles(ours.nodes), titles(pglPage.nodes));
      postgraphileSamePage = `totalCount ${pglPage.totalCount} vs chatgraph ${ours.totalCount}; same 50 chats in the same order: ${sameOrder ? 'yes' : 'NO'}`;
    }
    log(`checks: floor body identical to chatgraph's: ${floorMatchesChatgraph}${postgraphileSamePage ? `; PostGraphile ${postgraphileSamePage}` : ''}`);

    // Statements per request, counted inside each server process for one request.
    let chatgraphStatements50: string[] | null = null;
    for (const target of targets.filter((t) => t.server)) {
      for (const first of [10, 50] as const) {
        const statements = await target.server!.countStatements(async () => void (await post(target.server!.url, target.request(first))));
        if (first === 10) target.info.statements10 = statements?.length ?? null;
        else target.info.statements50 = statements?.length ?? null;
        if (target.info.name === 'chatgraph' && first === 50) chatgraphStatements50 = statements;
      }
    }
    log(`statements per request (first 10/50): ${targets.map((t) => `${t.info.name} ${t.info.statements10}/${t.info.statements50}`).join(', ')}`);

    // Throughput: alternate the order each round so drift in machine load does not favour one server.
    const load: LoadResult[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const live = targets.filter((t) => t.server);
      const order = round % 2 === 1 ? live : [...live].reverse();
      for (const target of order) {
        log(`round ${round}: ${target.info.name} (${settings.warmupSeconds} s warm-up + ${settings.seconds} s)`);
        const r = await measure(target.server!, target.info.name, round, target.request(50), { ...settings, postmasterPid: database.postmasterPid });
        load.push(r);
        log(`  ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, server CPU ${r.serverCpuMsPerRequest.toFixed(2)} ms/req, Postgres CPU ${r.postgresCpuMsPerRequest?.toFixed(2) ?? 'n/a'} ms/req, failures ${r.failures}, load ${r.loadAverage}`);
      }
    }
    for (const target of targets) {
      if (!target.sharesServerOf) await target.server?.stop();
    }

    log(`hot path: ${hotPathMessages} same-model appends, then ${hotPathMessages} from 10 concurrent appenders, then a model switch`);
    const hot = await hotPath(database.url, seeded.userId, hotPathMessages);
    for (const p of hot.phases) log(`  ${p.name}: ${p.insertsPerSecond.toFixed(0)}/s, chat row rewritten: ${p.chatRowRewritten}, n_tup_upd +${p.chatsUpdated}`);

    log('fan-out: 5,000 graphql-ws subscriptions, 20 events');
    const adminUrl = new URL(database.url);
    adminUrl.pathname = '/postgres';
    const fanout = process.env.BENCH_SKIP_FANOUT === '1' ? null : await runFanout(adminUrl.toString(), 5000, 20);
    if (fanout) log(`  p50 ${fanout.p50} ms, p99 ${fanout.p99} ms, ${fanout.delivered}/${fanout.expected} delivered, ${fanout.serverCpuUsPerDelivery} µs CPU/delivery`);
    if (fanout) for (const s of fanout.stages) log(`    ${s.stage}: median ${s.p50} ms, max ${s.max} ms`);
    log('idle memory: 20,000 graphql-ws subscriptions, no events');
    const idle = process.env.BENCH_SKIP_FANOUT === '1' ? null : await runFanout(adminUrl.toString(), 20_000, 0);
    if (idle) log(`  ${idle.heapPerSubscription} B heap, ${idle.rssPerSubscription} B RSS per idle subscription`);

    log('large events: 50 identical subscriptions, ~1 MB queued messages, whole queue vs queueChange');
    const bigEvents = process.env.BENCH_SKIP_BIG_EVENTS === '1' ? null : await runBigEvents(adminUrl.toString());
    for (const b of bigEvents ?? []) log(`  ${b.selection}: ${b.delivered}/${b.expected} delivered, server RSS +${b.serverRssGrowthMiB} MiB, closes ${JSON.stringify(b.closes)}`);

    log('message parts: 100 chats × 50 batches/s, 10 subscribers per chat on two processes');
    const parts = process.env.BENCH_SKIP_PARTS === '1'
      ? null
      : await runParts(adminUrl.toString(), { seconds: intEnv('BENCH_PARTS_SECONDS', 10, 1, 120), postmasterPid: database.postmasterPid ?? undefined });
    if (parts) log(`  p50 ${parts.p50} ms, p99 ${parts.p99} ms, ${parts.delivered}/${parts.expected} delivered, ${parts.gatewayCpuUsPerDelivery} µs gateway CPU/part`);

    // Cost analytics runs in its own process on its own embedded Postgres (100k-message user).
    log('cost analytics: bench/costs.ts');
    const costs =
      process.env.BENCH_SKIP_COSTS === '1'
        ? null
        : execFileSync(process.execPath, ['--import', 'tsx', new URL('./costs.ts', import.meta.url).pathname], { encoding: 'utf8', timeout: 600_000 });

    const report: Report = {
      date: new Date().toISOString(),
      command: commandLine(),
      machine,
      postgres,
      databaseSource: database.source,
      loadBefore,
      loadAfter: loadAverage(),
      totalSeconds: (performance.now() - started) / 1000,
      seed: seeded,
      settings,
      targets: targets.map((t) => t.info),
      load,
      floorMatchesChatgraph,
      postgraphileSamePage,
      postgraphileError,
      chatgraphStatements50,
      hotPath: hot,
      fanout,
      parts,
      costs,
      idle,
      bigEvents,
      previous: existsSync(output) ? previousHeadline(readFileSync(output, 'utf8')) : null,
    };
    // The load run that reconciles (bench/load.ts) runs in its own process on its own Postgres.
    log('load run: bench/load.ts');
    const loadRun =
      process.env.BENCH_SKIP_LOAD === '1'
        ? ''
        : execFileSync(process.execPath, ['--import', 'tsx', new URL('./load.ts', import.meta.url).pathname], { encoding: 'utf8', timeout: 600_000 });
    report.totalSeconds = (performance.now() - started) / 1000; // the load run included
    writeFileSync(output, `${renderReport(report).trimEnd()}\n\n${loadRun}`);
    log(`wrote ${relative(process.cwd(), output)} in ${report.totalSeconds.toFixed(0)} s`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
