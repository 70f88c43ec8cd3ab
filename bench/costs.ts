// Cost analytics benchmark: `npx tsx bench/costs.ts`.
//
// Starts its own embedded Postgres (127.0.0.1 only, deleted afterwards), loads one heavy user
// with 100k assistant messages in the last 29 days (plus 50k user messages in the same chats,
// and 600k assistant messages of 60 other users over 90 days as noise) with generate_series, then measures costSummary and
// costUsers latency through yoga.fetch (no port is opened), counts SQL statements per request,
// and checks the EXPLAIN (ANALYZE) plans. Prints a markdown table and exits by itself;
// `--plans` also prints the text plans on stderr.
import { chmodSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createToken } from '../src/auth/admin.js';
import { loadConfig } from '../src/config.js';
import { createDb, onQuery, pgp, type Db } from '../src/db/index.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedHandle } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { costTotalsColumns } from '../src/db/repos/chats.js';
import { costFragments } from '../src/db/repos/costs.js';
import { sql } from '../src/db/sql.js';
import { logger } from '../src/logger.js';
import { createChatgraphYoga } from '../src/yoga.js';

const RUNS = 30;
const WARMUP = 5;
const HEAVY_MESSAGES = 100_000;
const DAY_MS = 86_400_000;
const DEADLINE_MS = 10 * 60_000;

logger.level = process.env.LOG_LEVEL ?? 'warn';

const MODELS = {
  claude: '10000000-0000-4000-8000-000000000001',
  gpt: '10000000-0000-4000-8000-000000000002',
  free: '10000000-0000-4000-8000-000000000003',
  unpriced: '10000000-0000-4000-8000-000000000004',
};

/** Noise: other users' assistant messages, spread over the last 90 days. */
const NOISE_USERS = 60;
const NOISE_MESSAGES_PER_USER = 10_000;

/** One statement per table: generate_series builds every row inside Postgres. */
export async function load(db: Db): Promise<{ heavyId: string }> {
  return db.tx('bench load', async (t) => {
    // Bulk load only: skip the watch-stream triggers (chat_events rows nobody reads).
    await t.none('SET LOCAL session_replication_role = replica');
    // The cluster runs with synchronous_commit=off (fast mode). VACUUM right after an unflushed
    // commit cannot set hint bits, so it would leave every page not all-visible and no scan
    // index-only; a flushed commit makes the table look like one autovacuum has caught up with.
    await t.none('SET LOCAL synchronous_commit = on');
    await t.none(
      `INSERT INTO chat_model_configs (id, provider, model, display_name, is_default, context_limit, input_price, output_price, cache_read_price, cache_write_price)
       VALUES ($1, 'anthropic', 'claude', 'Claude', true, 200000, 3, 15, 0.3, 3.75), ($2, 'openai', 'gpt', 'GPT', false, 100000, 2, 8, 0.5, NULL),
              ($3, 'local', 'llama', 'Llama', false, 8000, 0, 0, 0, 0), ($4, 'x', 'exp', 'Experimental', false, 8000, NULL, NULL, NULL, NULL)`,
      [MODELS.claude, MODELS.gpt, MODELS.free, MODELS.unpriced],
    );
    await t.none(`INSERT INTO users (username, name, is_admin) VALUES ('heavy', 'Heavy User', false), ('boss', 'Admin', true)`);
    await t.none(`INSERT INTO users (username, name) SELECT 'noise' || g, 'Noise ' || g FROM generate_series(1, $1) g`, [NOISE_USERS]);
    const { id: heavyId } = await t.one<{ id: string }>(`SELECT id FROM users WHERE username = 'heavy'`);
    // heavy: 200 root chats and 100 sub-agent children; each noise user: 10 root chats.
    await t.none(
      `INSERT INTO chats (owner_id, title, last_model_config_id)
       SELECT u.id, u.username || ' chat ' || g, $1 FROM users u, generate_series(1, CASE WHEN u.username = 'heavy' THEN 200 ELSE 10 END) g
       WHERE u.username <> 'boss'`,
      [MODELS.claude],
    );
    await t.none(
      `INSERT INTO chats (owner_id, title, last_model_config_id, parent_chat_id, root_chat_id)
       SELECT owner_id, 'child of ' || title, last_model_config_id, id, id
       FROM (SELECT * FROM chats WHERE owner_id = $1 ORDER BY title LIMIT 100) r`,
      [heavyId],
    );
    // Rows are spread evenly over `days` back from now, inserted in time order as a live
    // table would be. The model cycles Claude, GPT, Llama (free), Experimental (unpriced),
    // none; every 50th message is edited away (deleted).
    const messages = (owner: string, role: string, perUser: number, days: number) => `
      INSERT INTO chat_messages (chat_id, role, content, content_version, model_config_id, input_tokens, output_tokens,
        cache_read_tokens, cache_creation_tokens, total_cost_micros, runtime_ms, deleted, created_at)
      SELECT f.ids[1 + (g * 7919) % f.n], '${role}', '[{"type":"text","text":"ok"}]', 1,
        (ARRAY[$1, $2, $3, $4, NULL]::uuid[])[1 + g % 5],
        1000 + g % 500, 200 + g % 50, g % 300, g % 7,
        CASE g % 5 WHEN 0 THEN (1000 + g % 500) * 3 + (200 + g % 50) * 15 WHEN 1 THEN (1000 + g % 500) * 2 + (200 + g % 50) * 8 WHEN 2 THEN 0 END,
        g % 2000, g % 50 = 0, now() - (${perUser} - g) * interval '${(days * 86400) / perUser} seconds'
      FROM (SELECT c.owner_id, array_agg(c.id) AS ids, count(*)::int AS n FROM chats c WHERE ${owner} GROUP BY c.owner_id) f,
           generate_series(1, ${perUser}) g
      ORDER BY g`;
    const ids = [MODELS.claude, MODELS.gpt, MODELS.free, MODELS.unpriced];
    const heavy = pgp.as.format('c.owner_id = $1', [heavyId]);
    await t.none(messages(pgp.as.format('c.owner_id <> $1', [heavyId]), 'assistant', NOISE_MESSAGES_PER_USER, 90), ids);
    // The measured user: every message inside the default 30-day range (the worst case).
    await t.none(messages(heavy, 'assistant', HEAVY_MESSAGES, 29), ids);
    await t.none(messages(heavy, 'user', HEAVY_MESSAGES / 2, 29), ids);
    // The load skipped triggers, the rollups' among them: compute them as the triggers would have.
    await t.any('SELECT chat_cost_rollups_rebuild()');
    return { heavyId };
  });
}

interface Stats {
  p50: number;
  p95: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1)! };
}

async function time(fn: () => Promise<void>): Promise<Stats> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) walk(child, out);
  return out;
}

/** EXPLAIN (ANALYZE, BUFFERS) of a formatted statement: execution time, scans of chat_messages. */
async function explain(db: Db, query: string): Promise<{ ms: number; scans: string[]; seqScanOnMessages: boolean }> {
  const [row] = await db.any<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query}`);
  const plan = row!['QUERY PLAN'][0]!;
  if (process.argv.includes('--plans')) {
    const text = await db.any<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${query}`);
    console.error(text.map((r) => r['QUERY PLAN']).join('\n'));
  }
  const nodes = walk(plan.Plan);
  const scans = nodes.filter((n) => n['Relation Name']).map((n) => `${n['Node Type']} ${n['Index Name'] ?? n['Relation Name']}`);
  return { ms: plan['Execution Time'], scans: [...new Set(scans)], seqScanOnMessages: nodes.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'chat_messages') };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chatgraph-bench-costs-'));
  chmodSync(dir, 0o755); // as root, Postgres runs as the postgres OS user, which must reach it
  let embedded: EmbeddedHandle | undefined;
  let db: Db | undefined;
  const guard = setTimeout(() => {
    console.error(`bench/costs: still running after ${DEADLINE_MS / 60_000} minutes; giving up`);
    void Promise.resolve(embedded?.stop()).finally(() => process.exit(1));
  }, DEADLINE_MS);
  guard.unref();
  try {
    embedded = await startEmbeddedPostgres({ pgdata: join(dir, 'pg'), ephemeral: true, fast: true });
    await ensureDatabase(embedded.url('postgres'), 'chatgraph_bench_costs');
    db = createDb(embedded.url('chatgraph_bench_costs'), 4);
    await migrate(db);

    const t0 = performance.now();
    const { heavyId } = await load(db);
    await db.none('VACUUM ANALYZE');
    const loadMs = performance.now() - t0;
    const vis = await db.one<{ relpages: number; relallvisible: number }>(`SELECT relpages, relallvisible FROM pg_class WHERE relname = 'chat_messages'`);
    const counts = await db.one<{ assistant: number; all: number }>(
      `SELECT count(*) FILTER (WHERE role = 'assistant')::int AS assistant, count(*)::int AS all FROM chat_messages`,
    );

    const user = (await createToken(db, { username: 'heavy', scopes: ['user'] })).token;
    const admin = (await createToken(db, { username: 'boss', scopes: ['user', 'admin'] })).token;
    const yoga = createChatgraphYoga({ services: { db, config: loadConfig({ ...process.env, GRAPHIQL: 'false' }) } });
    const gql = async (query: string, token: string, variables: Record<string, unknown> = {}) => {
      const res = await yoga.fetch('http://127.0.0.1/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: unknown; errors?: unknown };
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return body.data as Record<string, any>;
    };
    const statementsOf = async (fn: () => Promise<unknown>) => {
      let n = 0;
      const stop = onQuery((q) => {
        if (!q.includes('api_tokens')) n++; // token lookup and touch are the same for every request
      });
      try {
        await fn();
      } finally {
        stop();
      }
      return n;
    };

    const TOTALS = 'totalCostMicros pricedMessageCount unpricedMessageCount totalInputTokens totalOutputTokens totalCacheReadTokens totalCacheCreationTokens totalRuntimeMs';
    const SUMMARY = `query($s: DateTime, $e: DateTime) { costSummary(startDate: $s, endDate: $e) { startDate endDate ${TOTALS} messageCount
      byModel { modelConfigId displayName provider model messageCount totals { ${TOTALS} } }
      byChat { rootChatId chatTitle messageCount totals { ${TOTALS} } } } }`;
    const SUMMARY_REL = `{ costSummary { totalCostMicros byModel { modelConfig { id displayName } totals { totalCostMicros } } byChat { rootChat { id title } totals { totalCostMicros } } } }`;
    const TOTALS_ONLY = `{ costSummary { ${TOTALS} } }`;
    const USERS = `{ costUsers(first: 50) { totalCount edges { cursor node { user { username name } messageCount chatCount totals { ${TOTALS} } } } } }`;

    const check = await gql(SUMMARY, user);
    const summary = check.costSummary;
    if (summary.messageCount !== HEAVY_MESSAGES) throw new Error(`expected ${HEAVY_MESSAGES} messages in the default range, got ${summary.messageCount}`);
    const day = { s: new Date(Date.now() - DAY_MS).toISOString(), e: new Date().toISOString() };

    const cases: Array<{ name: string; run: () => Promise<unknown> }> = [
      { name: 'costSummary, 30 days (100k msgs): totals + byModel + byChat', run: () => gql(SUMMARY, user) },
      { name: 'costSummary, 30 days: + modelConfig and rootChat relations', run: () => gql(SUMMARY_REL, user) },
      { name: 'costSummary, 30 days: totals only', run: () => gql(TOTALS_ONLY, user) },
      { name: 'costSummary, last 1 day (~3.4k msgs): full', run: () => gql(SUMMARY, user, day) },
      { name: 'costUsers first 50, 30 days (300k msgs, admin)', run: () => gql(USERS, admin) },
    ];
    const rows: string[] = [];
    for (const c of cases) {
      const statements = await statementsOf(c.run);
      const s = await time(async () => void (await c.run()));
      rows.push(`| ${c.name} | ${statements} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.max.toFixed(1)} |`);
    }

    // The SQL floor: the same summary statement straight through pg-promise, no GraphQL; and the
    // per-message statements cost analytics ran before the daily rollups, for comparison.
    const summarySql = sql('chat_messages/cost_summary.sql');
    const usersSql = sql('chat_messages/cost_users.sql');
    const rawSummary = new pgp.QueryFile(new URL('./sql/cost_summary_raw.sql', import.meta.url).pathname, { minify: true });
    const rawUsers = new pgp.QueryFile(new URL('./sql/cost_users_raw.sql', import.meta.url).pathname, { minify: true });
    const end = new Date();
    const start = new Date(end.getTime() - 30 * DAY_MS);
    const params = { ...costFragments(pgp, start, end), userId: heavyId };
    const rawParams = { totals: costTotalsColumns, userId: heavyId, start, end };
    const usersParams = { pattern: null, afterCost: null, afterUsername: null, limit: 51 };
    // Exactness on the benchmark's own data: the rollup statements answer what the per-message ones do.
    const same = (a: unknown[], b: unknown[]) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(await db.any(summarySql, params), await db.any(rawSummary, rawParams))) throw new Error('rollup summary differs from the per-message one');
    if (!same(await db.any(usersSql, { ...costFragments(pgp, start, end), ...usersParams }), await db.any(rawUsers, { ...rawParams, ...usersParams }))) {
      throw new Error('rollup costUsers differs from the per-message one');
    }
    const floor = await time(async () => void (await db!.any(summarySql, params)));
    rows.push(`| SQL floor: cost_summary.sql via pg-promise (no GraphQL) | 1 | ${floor.p50.toFixed(1)} | ${floor.p95.toFixed(1)} | ${floor.max.toFixed(1)} |`);
    const before = await time(async () => void (await db!.any(rawSummary, rawParams)));
    rows.push(`| before the rollups: per-message summary statement (bench/sql/cost_summary_raw.sql) | 1 | ${before.p50.toFixed(1)} | ${before.p95.toFixed(1)} | ${before.max.toFixed(1)} |`);

    const plans = [
      ['cost_summary.sql, 30 days', pgp.as.format(summarySql, params)],
      ['cost_summary.sql, 1 day', pgp.as.format(summarySql, { ...costFragments(pgp, new Date(end.getTime() - DAY_MS), end), userId: heavyId })],
      ['cost_users.sql, 30 days, first 50', pgp.as.format(usersSql, { ...costFragments(pgp, start, end), ...usersParams })],
      ['before: cost_summary_raw.sql, 30 days', pgp.as.format(rawSummary, rawParams)],
      ['before: cost_users_raw.sql, 30 days, first 50', pgp.as.format(rawUsers, { ...rawParams, ...usersParams })],
    ] as const;
    const planRows: string[] = [];
    for (const [name, query] of plans) {
      const p = await explain(db, query);
      planRows.push(`| ${name} | ${p.ms.toFixed(1)} | ${p.seqScanOnMessages ? 'yes' : 'no'} | ${p.scans.join('; ')} |`);
    }

    const out = [
      `## bench/costs.ts — ${new Date().toISOString().slice(0, 10)}`,
      '',
      `Machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}. Data: ${counts.assistant} assistant / ${counts.all} messages in total; the measured user has ${HEAVY_MESSAGES} assistant messages in 300 chats (200 roots), load + VACUUM ANALYZE ${(loadMs / 1000).toFixed(1)} s, ${vis.relallvisible} of ${vis.relpages} heap pages all-visible. ${RUNS} runs after ${WARMUP} warm-up, sequential, through yoga.fetch.`,
      '',
      `Check: totalCostMicros ${summary.totalCostMicros}, priced ${summary.pricedMessageCount}, unpriced ${summary.unpricedMessageCount}, byModel ${summary.byModel.length} lines, byChat ${summary.byChat.length} lines.`,
      '',
      '| case | SQL statements / request | p50 ms | p95 ms | max ms |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      '| EXPLAIN (ANALYZE, BUFFERS) | execution ms | Seq Scan on chat_messages | scans |',
      '| --- | ---: | --- | --- |',
      ...planRows,
      '',
    ].join('\n');
    process.stdout.write(out);
  } finally {
    await db?.$pool.end();
    await embedded?.stop();
    clearTimeout(guard);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
