import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pgPromise from 'pg-promise';
import { benchSql } from '../lib/sql.js';
import { runChild, statementRecorder } from './child.js';

/**
 * The hand-written SQL floor: a bare node:http server that answers the dashboard page with one
 * statement building the whole response as json (json_agg / json_build_object) and JSON.parse +
 * JSON.stringify around the one thing Postgres does slowly: the turn summary's whitespace
 * collapse (see bench/sql/floor_dashboard.sql). It checks the bearer token like chatgraph
 * (sha256 of the secret; compared in SQL here, not in constant time: it is a floor, not a server
 * to ship) and reads `variables.first` from the request, nothing else. The statement is prepared
 * once per connection (named), so it is planned once, not per request.
 */
const dashboard = benchSql('floor_dashboard.sql');
interface Page {
  data: { chats: { nodes: Array<{ lastTurnSummary: string | null }> } };
}

/** The turn summary rule, as src/resolvers/content.ts summarize(): whitespace collapsed, trimmed, 200 characters with an ellipsis. */
function summarize(text: string | null): string | null {
  if (text === null) return null;
  const collapsed = text.replace(/\s+/g, ' ').trim();
  if (collapsed === '') return null;
  const chars = [...collapsed];
  return chars.length <= 200 ? collapsed : `${chars.slice(0, 199).join('').trimEnd()}…`;
}

const TOKEN_RE = /^Bearer\s+cg_([0-9a-f]{32})_([A-Za-z0-9_-]{43})\s*$/i;

const url = process.env.BENCH_DATABASE_URL!;
const recorder = statementRecorder();
const pgp = pgPromise({ noWarnings: true, query: (e) => recorder.record(String(e.query)) });
// Same pool size as chatgraph's default (DB_POOL_SIZE=10).
const db = pgp({ connectionString: url, max: Number(process.env.BENCH_POOL_SIZE ?? 10), application_name: 'bench-floor' });

function send(res: import('node:http').ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      const auth = TOKEN_RE.exec(req.headers.authorization ?? '');
      if (req.method !== 'POST' || !auth) return send(res, 401, '{"errors":[{"message":"Invalid token"}]}');
      const hex = auth[1]!;
      const tokenId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      const secretHash = createHash('sha256').update(auth[2]!).digest();
      let first = 50;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables?: { first?: unknown } };
        if (Number.isInteger(body.variables?.first)) first = body.variables!.first as number;
      } catch {
        return send(res, 400, '{"errors":[{"message":"Bad request"}]}');
      }
      // A named prepared statement: planning this statement costs ~1.4 ms, more than a fifth of its execution.
      const row = await db.oneOrNone<{ body: string }>(
        new pgp.PreparedStatement({ name: 'floor-dashboard', text: dashboard, values: [tokenId, secretHash, Math.min(Math.max(first, 1), 100)] }),
      );
      if (!row) return send(res, 401, '{"errors":[{"message":"Invalid token"}]}');
      const page = JSON.parse(row.body) as Page;
      for (const node of page.data.chats.nodes) node.lastTurnSummary = summarize(node.lastTurnSummary);
      send(res, 200, JSON.stringify(page));
    })().catch(() => send(res, 500, '{"errors":[{"message":"Unexpected error."}]}'));
  });
});

await runChild({
  start: () =>
    new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        const address = server.address() as AddressInfo;
        resolve(`http://127.0.0.1:${address.port}/graphql`);
      });
    }),
  async stop() {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await db.$pool.end();
  },
  counter: recorder.counter,
});
