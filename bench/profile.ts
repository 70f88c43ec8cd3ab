// Where chatgraph's CPU goes on the dashboard query: `npx tsx bench/profile.ts [--requests 300]
// [--query dashboard|dashboard-peer] [--out <dir>]`. Seeds the bench data set on its own embedded
// Postgres, serves it with yoga.fetch in this process (no sockets, no load generator, so the
// profile is chatgraph's alone), records a V8 CPU profile of the measured requests (open the
// .cpuprofile in Chrome DevTools or speedscope for the flame graph) and prints the functions
// with the most self time, grouped by package, as a markdown table.
import './lib/env.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { createChatgraphYoga } from '../src/yoga.js';
import { ViewerCache } from '../src/auth/viewerCache.js';
import { benchDb, openBenchDatabase } from './lib/database.js';
import { seed } from './lib/seed.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const requests = Number(arg('requests', '300'));
const queryName = arg('query', 'dashboard');
const outDir = arg('out', process.cwd());
mkdirSync(outDir, { recursive: true });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const database = await openBenchDatabase();
try {
  const db = benchDb(database.url, 10);
  const seeded = await seed(db);
  const config = loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn' });
  const yoga = createChatgraphYoga({ services: { db, config, viewers: new ViewerCache(config.authCacheMs) } });
  const query = readFileSync(new URL(`./queries/${queryName}.graphql`, import.meta.url), 'utf8');
  const body = JSON.stringify({ query, variables: { first: 50 } });
  const run = async () => {
    const res = await yoga.fetch('http://127.0.0.1/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${seeded.token}` }, body });
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    await res.text();
  };
  for (let i = 0; i < 50; i++) await run(); // warm-up: jit compilation, prepared statements, caches
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Ten at a time, as the bench's load generator does.
  for (let i = 0; i < requests; i += 10) await Promise.all(Array.from({ length: Math.min(10, requests - i) }, run));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] } };
  session.disconnect();
  const file = join(outDir, `chatgraph-${queryName}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));

  const total = profile.nodes.reduce((a, n) => a + n.hitCount, 0);
  const where = (url: string) => {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return m[1]!;
    if (url.includes('/src/')) return `chatgraph ${url.slice(url.indexOf('/src/') + 1)}`;
    if (url.startsWith('node:')) return url;
    return url ? url.split('/').slice(-2).join('/') : '(native / GC / idle)';
  };
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const n of profile.nodes) {
    const pkg = where(n.callFrame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + n.hitCount);
    const fn = `${n.callFrame.functionName || '(anonymous)'} (${pkg}:${n.callFrame.lineNumber + 1})`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + n.hitCount);
  }
  const top = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  const pct = (n: number) => `${((100 * n) / total).toFixed(1)}%`;
  const out = [
    `Profile of ${requests} \`${queryName}\` requests (first: 50), 10 concurrent, through yoga.fetch: ` +
      `${((cpu.user + cpu.system) / 1000 / requests).toFixed(2)} ms CPU per request (${(wall / requests).toFixed(2)} ms wall per request at 10 in flight). ` +
      `Flame graph: ${file}.`,
    '',
    '| self time by package | share |',
    '|---|---|',
    ...top(byPackage, 15).map(([k, v]) => `| ${k} | ${pct(v)} |`),
    '',
    '| self time by function | share |',
    '|---|---|',
    ...top(byFunction, 25).map(([k, v]) => `| ${k.replace(/\|/g, '\\|')} | ${pct(v)} |`),
    '',
  ].join('\n');
  process.stdout.write(out);
  await db.$pool.end();
} finally {
  await database.close();
}
