import '../servers/promise-with-resolvers.js'; // must run before PostGraphile executes anything
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PgSimplifyInflectionPreset } from '@graphile/simplify-inflection';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { runChild, statementRecorder } from '../servers/child.js';

/**
 * The peer: PostGraphile V5 (amber preset + simplify inflection) over the same database,
 * served by grafserv's node adaptor on 127.0.0.1. No auth layer (it has no notion of our
 * tokens); the owner filter is a `condition` argument instead. Its pool has chatgraph's size.
 */
const pool = new pg.Pool({ connectionString: process.env.BENCH_DATABASE_URL, max: Number(process.env.BENCH_POOL_SIZE ?? 10), application_name: 'bench-postgraphile' });

// Statement counting: PostGraphile owns its SQL, so count at the driver, on every pool client.
const recorder = statementRecorder();
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const config = args[0];
  recorder.record(typeof config === 'string' ? config : String((config as { text?: string })?.text ?? ''));
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof clientQuery;

const preset: GraphileConfig.Preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  // By default only indexed columns can be filtered on; chats.archived and parent_chat_id (a partial
  // index) are not, and the dashboard needs both, as chatgraph's own page query filters them.
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [makePgService({ pool, schemas: ['public'] })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on('error', (err) => {
  process.stderr.write(`postgraphile server error: ${String(err)}\n`);
});

await runChild({
  async start() {
    await serv.addTo(server);
    // Build the schema before announcing readiness, so startup is not measured as latency.
    await pgl.getSchema();
    return new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`));
    });
  },
  async stop() {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await pgl.release();
    await pool.end();
  },
  counter: recorder.counter,
});
