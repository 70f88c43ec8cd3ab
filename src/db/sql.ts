import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pgPromise from 'pg-promise';

const sqlRoot = join(dirname(fileURLToPath(import.meta.url)), 'sql');

/** Loads src/db/sql/<file> once as a minified QueryFile; a syntax or IO problem throws at import time. */
export function sql(file: string): pgPromise.QueryFile {
  const qf = new pgPromise.QueryFile(join(sqlRoot, file), { minify: true, noWarnings: true });
  if (qf.error) throw qf.error;
  return qf;
}
