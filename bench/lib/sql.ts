import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pgPromise from 'pg-promise';

const sqlRoot = join(dirname(fileURLToPath(import.meta.url)), '..', 'sql');

/** Loads bench/sql/<file> once (the harness keeps its SQL there, apart from chatgraph's src/db/sql). */
export function benchSql(file: string): pgPromise.QueryFile {
  const qf = new pgPromise.QueryFile(join(sqlRoot, file), { minify: true, noWarnings: true });
  if (qf.error) throw qf.error;
  return qf;
}
