// Message-part relay benchmark (issue 11): one worker publishing RATE batches/s into each of
// CHATS chats, SUBSCRIBERS chatEvents subscriptions per chat split over two gateway processes.
// Reports publish → client latency (p50/p95/p99), deliveries, gaps/duplicates by seq, and server
// CPU per delivered part (both gateways, and Postgres). Bounded in time; 127.0.0.1 only.
// Usage: npx tsx bench/parts.ts [--chats 100] [--rate 50] [--subscribers 10] [--seconds 10]  (or via npm run bench)
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToken, createUser } from '../src/auth/admin.js';
import { loadConfig } from '../src/config.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { buildApp } from '../src/server.js';
import { postgresCpuMs } from './lib/machine.js';
import { arg, runStandalone, scenarioDatabase } from './lib/scenario.js';

export interface PartsResult {
  chats: number;
  subscribersPerChat: number;
  rate: number;
  seconds: number;
  accepted: number;
  limited: number;
  failed: number;
  delivered: number;
  expected: number;
  gaps: number;
  duplicates: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  publishP50: number;
  publishP99: number;
  /** CPU of the client process (subscribers + worker) while publishing, percent of one core. */
  clientCpuShare: number;
  /** Gateway CPU (both processes) per delivered part, µs. */
  gatewayCpuUsPerDelivery: number;
  /** Postgres CPU per published batch, µs (null when Postgres is not ours). */
  postgresCpuUsPerBatch: number | null;
  /** Share of one core used by each gateway while publishing, percent. */
  cpuShareA: number;
  cpuShareB: number;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** utime + stime of one process, ms (Linux /proc; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Runs the benchmark against `adminUrl` (a server where databases can be created). */
export async function runParts(adminUrl: string, options: { chats?: number; rate?: number; subscribers?: number; seconds?: number; postmasterPid?: number } = {}): Promise<PartsResult> {
  const chats = options.chats ?? 100;
  const rate = options.rate ?? 50;
  const subscribers = options.subscribers ?? 10;
  const seconds = options.seconds ?? 10;
  const name = `chatgraph_parts_${process.pid}`;
  const { db, url, userId, token } = await scenarioDatabase(adminUrl, name, 'viewer');
  await createUser(db, { username: 'worker' });
  const { token: workerToken } = await createToken(db, { username: 'worker', scopes: ['worker'] });
  const ids = await db.map(
    `INSERT INTO chats (owner_id, last_model_config_id, status, worker_id, started_at, heartbeat_at)
     SELECT $1, (SELECT id FROM chat_model_configs), 'running', 'bench-worker', now(), now() FROM generate_series(1, $2) RETURNING id`,
    [userId, chats],
    (r: { id: string }) => encodeGlobalID('Chat', r.id),
  );

  // The worker fires batches without waiting for answers, so a socket may hold many at once;
  // one viewer holds all subscriber sockets (20), above the per-user default.
  const env = { LOG_LEVEL: 'warn', NODE_ENV: 'production', MAX_SUBSCRIPTIONS_PER_CONNECTION: '1000', MAX_CONNECTIONS_PER_USER: '1000' };
  const app = buildApp({ db, config: loadConfig({ ...process.env, ...env }) });
  const urlA = await app.start(0, '127.0.0.1');
  const b = spawn(process.execPath, [join(root, 'bin/chatgraph.js'), 'start'], {
    env: { ...process.env, ...env, DATABASE_URL: url.toString(), PORT: '0', HOST: '127.0.0.1', GRAPHIQL: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  b.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  b.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const urlB = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway B did not start:\n${out}`)), 60_000);
    b.stdout!.on('data', () => {
      const served = /serving GraphQL at (\S+)/.exec(out)?.[1];
      if (served) {
        clearTimeout(timer);
        resolve(served);
      }
    });
  });

  const client = fork(new URL('./parts-clients.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env, URL_A: urlA, URL_B: urlB, USER_TOKEN: token, WORKER_TOKEN: workerToken, CHAT_IDS: ids.join(','),
      SUBSCRIBERS: String(subscribers), RATE: String(rate), SECONDS: String(seconds),
    },
  });
  try {
    let cpuA = process.cpuUsage();
    let cpuB = processCpuMs(b.pid!);
    let pg = options.postmasterPid ? postgresCpuMs(options.postmasterPid) : null;
    let wall = performance.now();
    const result = await new Promise<Omit<PartsResult, 'gatewayCpuUsPerDelivery' | 'postgresCpuUsPerBatch' | 'cpuShareA' | 'cpuShareB'> & { cpu: { a: number; b: number; pg: number | null; wall: number } }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('parts bench timed out')), (seconds + 120) * 1000);
      let cpu = { a: 0, b: 0, pg: null as number | null, wall: 0 };
      client.on('message', (m: { type: string; result?: never; error?: string }) => {
        if (m.type === 'measuring') {
          cpuA = process.cpuUsage();
          cpuB = processCpuMs(b.pid!);
          pg = options.postmasterPid ? postgresCpuMs(options.postmasterPid) : null;
          wall = performance.now();
        } else if (m.type === 'published') {
          const a = process.cpuUsage(cpuA);
          const pgNow = options.postmasterPid ? postgresCpuMs(options.postmasterPid) : null;
          cpu = { a: (a.user + a.system) / 1000, b: processCpuMs(b.pid!) - cpuB, pg: pg !== null && pgNow !== null ? pgNow - pg : null, wall: performance.now() - wall };
        } else if (m.type === 'result') {
          clearTimeout(timer);
          resolve({ ...(m.result as unknown as PartsResult), cpu });
        } else if (m.type === 'error') {
          clearTimeout(timer);
          reject(new Error(m.error));
        }
      });
      client.once('exit', (code) => code !== 0 && reject(new Error(`parts client exited ${code}`)));
    });
    const { cpu, ...rest } = result;
    return {
      ...rest,
      gatewayCpuUsPerDelivery: Math.round(((cpu.a + cpu.b) * 1000) / Math.max(1, rest.delivered)),
      postgresCpuUsPerBatch: cpu.pg === null ? null : Math.round((cpu.pg * 1000) / Math.max(1, rest.accepted)),
      cpuShareA: Math.round((cpu.a / cpu.wall) * 100),
      cpuShareB: Math.round((cpu.b / cpu.wall) * 100),
    };
  } finally {
    if (client.exitCode === null) client.kill();
    const exited = new Promise((r) => b.once('exit', r));
    b.kill('SIGTERM');
    await exited;
    await app.stop();
    await db.$pool.end();
  }
}

/** The RESULTS.md section body for one result: what was measured, the table, the target. */
export function partsDescription(r: PartsResult): string {
  return [
    `bench/parts.ts (alone: \`npx tsx bench/parts.ts [--chats 100 --rate 50 --subscribers 10 --seconds 10]\`): ${r.chats} running chats; one worker ` +
      `(a separate client process, graphql-ws, ${Math.ceil(r.chats / 10)} sockets) publishes ${r.rate} batches/s into each (one text delta of ~120 bytes, fired on a ` +
      `fixed schedule without waiting for answers); ${r.subscribersPerChat} chatEvents subscriptions per chat of one viewer, half on each of two gateway processes ` +
      '(this process, and a `chatgraph start` child on the same database; identical subscriptions of a viewer share one execution per process). Latency = ' +
      'client receipt minus the send time carried in the delta (same clock, same process): publish mutation, NOTIFY, both LISTEN connections, relay, ' +
      'execution, socket writes and the client\'s own parsing, all on the same 2 shared cores. CPU = both gateways\' user+system time over the publishing window ' +
      'divided by delivered parts; Postgres CPU per accepted batch (one autocommit NOTIFY statement each).',
    '',
    partsTable(r),
    '',
    `Target: publish → client p99 ≤ 50 ms with 100 chats streaming at 50 batches/s: **${r.p99 <= 50 && r.chats >= 100 && r.rate >= 50 ? 'met' : 'not met'}** (p99 ${r.p99} ms). ` +
      `Every accepted batch reached every subscriber: **${r.delivered === r.expected ? 'yes' : `no (${r.delivered}/${r.expected})`}**; no gap or duplicate by seq: **${r.gaps === 0 && r.duplicates === 0 ? 'yes' : 'no'}**.`,
  ].join('\n');
}

/** Markdown table of one result. */
export function partsTable(r: PartsResult): string {
  return [
    '| chats × batches/s | subscribers / chat (2 processes) | batches accepted / refused | parts delivered / expected | gaps / duplicates | p50 ms | p95 ms | p99 ms | max ms | publish round trip p50 / p99 ms | gateway CPU µs / delivered part | Postgres CPU µs / batch | gateway CPU A / B / client |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${r.chats} × ${r.rate} for ${r.seconds} s | ${r.subscribersPerChat} | ${r.accepted} / ${r.limited + r.failed} | ${r.delivered} / ${r.expected} | ${r.gaps} / ${r.duplicates} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.max} | ${r.publishP50} / ${r.publishP99} | ${r.gatewayCpuUsPerDelivery} | ${r.postgresCpuUsPerBatch ?? 'n/a'} | ${r.cpuShareA}% / ${r.cpuShareB}% / ${r.clientCpuShare}% |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('parts', 200, async (adminUrl, pgdata) => {
    const pidRow = pgdata ? readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0] : undefined;
    const result = await runParts(adminUrl, {
      chats: arg('chats', 100), rate: arg('rate', 50), subscribers: arg('subscribers', 10), seconds: arg('seconds', 10),
      postmasterPid: pidRow ? Number(pidRow) : undefined,
    });
    return partsTable(result);
  });
}
