import { logger } from '../logger.js';
import pgPromise, { type IDatabase, type IInitOptions, type IMain, type ITask } from 'pg-promise';
import { UsersRepository } from './repos/users.js';
import { ApiTokensRepository } from './repos/apiTokens.js';
import { ChatsRepository } from './repos/chats.js';
import { MessagesRepository } from './repos/messages.js';
import { ModelConfigsRepository } from './repos/modelConfigs.js';
import { QueueRepository } from './repos/queue.js';
import { EventLogRepository } from '../events/log.js';
import { DiffStatusesRepository } from './repos/diffStatuses.js';
import { CostsRepository } from './repos/costs.js';

/** Repositories attached to every db, task and tx object (`db.users.byId(...)`). */
export interface Extensions {
  users: UsersRepository;
  apiTokens: ApiTokensRepository;
  chats: ChatsRepository;
  messages: MessagesRepository;
  modelConfigs: ModelConfigsRepository;
  queue: QueueRepository;
  /** The watch stream's log (`chat_events`), see src/events/. */
  eventLog: EventLogRepository;
  diffStatuses: DiffStatusesRepository;
  costs: CostsRepository;
}

export type Db = IDatabase<Extensions> & Extensions;
/** A db, task or transaction: repositories work the same on all three. */
export type DbTask = ITask<Extensions> & Extensions;
export type Queryable = Db | DbTask;

type QueryListener = (query: string) => void;
const queryListeners = new Set<QueryListener>();
const untrackedClients = new WeakSet<object>();

/** Observes every statement sent (tests count statements to prove batching). */
export function onQuery(listener: QueryListener): () => void {
  queryListeners.add(listener);
  return () => queryListeners.delete(listener);
}

/** Hides a connection's statements from onQuery: the event listener's background reads are nobody's request. */
export function untrackQueries(client: object): void {
  untrackedClients.add(client);
}

const initOptions: IInitOptions<Extensions> = {
  extend(obj) {
    obj.users = new UsersRepository(obj, pgp);
    obj.apiTokens = new ApiTokensRepository(obj, pgp);
    obj.chats = new ChatsRepository(obj, pgp);
    obj.messages = new MessagesRepository(obj, pgp);
    obj.modelConfigs = new ModelConfigsRepository(obj, pgp);
    obj.queue = new QueueRepository(obj, pgp);
    obj.eventLog = new EventLogRepository(obj, pgp);
    obj.diffStatuses = new DiffStatusesRepository(obj, pgp);
    obj.costs = new CostsRepository(obj, pgp);
  },
  query(e) {
    if (queryListeners.size === 0 || untrackedClients.has(e.client)) return;
    const q = e.query as unknown;
    const text = typeof q === 'string' ? q : typeof (q as { text?: unknown })?.text === 'string' ? (q as { text: string }).text : String(q);
    for (const listener of queryListeners) listener(text);
  },
};

/** The one pg-promise root of the process. */
export const pgp: IMain = pgPromise(initOptions);

// Parse int4 columns as numbers; int8/numeric stay strings (exact token counts, prices).
pgp.pg.types.setTypeParser(pgp.pg.types.builtins.INT4, (v: string) => Number.parseInt(v, 10));

/** Opens a pool against `url`; close it with `db.$pool.end()`. */
export function createDb(url: string, poolSize = 10): Db {
  const db = pgp({ connectionString: url, max: poolSize, application_name: 'chatgraph' }) as Db;
  // pg-promise drops its pool 'error' handler the moment $pool.end() is called, while clients
  // are still closing; an idle client that then hears "terminating connection" (Postgres
  // stopping at the same time, e.g. Ctrl-C reaching both) would crash the process with an
  // unhandled 'error' event. The pool discards such clients itself; this only keeps it quiet.
  db.$pool.on('error', (err: Error) => logger.debug({ err: err.message }, 'idle database connection closed by the server'));
  return db;
}

/** Round trip to the database (readiness). */
export async function ping(db: Queryable): Promise<void> {
  await db.one('SELECT 1 AS ok');
}
