import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pgPromise from 'pg-promise';

/*
 * Where SQL lives: a statement longer than one line is a file, src/db/sql/<table>/<op>.sql (the
 * event log's in src/events/sql/), opening with a one-line purpose comment and taking named
 * `${…}` parameters; its module loads it once, at import, with `sql()` or `queryFile()`. A
 * one-line statement (or a one-line fragment such as a keyset condition) may stay inline beside
 * the method that runs it. test/layout.test.ts fails on a multi-line statement written inline.
 * The .sql files ship beside the compiled code: `npm run build` copies every one into dist/.
 */
const sqlRoot = join(dirname(fileURLToPath(import.meta.url)), 'sql');

/** Loads a .sql file once as a minified QueryFile; a syntax or IO problem throws at import time. */
export function queryFile(path: string): pgPromise.QueryFile {
  const qf = new pgPromise.QueryFile(path, { minify: true, noWarnings: true });
  if (qf.error) throw qf.error;
  return qf;
}

/** Loads src/db/sql/<file> (see queryFile). */
export function sql(file: string): pgPromise.QueryFile {
  return queryFile(join(sqlRoot, file));
}

/** A placeholder rendered verbatim, to turn a named-parameter QueryFile into `$n` text. */
const positional = (n: number) => ({ rawType: true, toPostgres: () => `$${n}` });

/**
 * Renders a QueryFile once into the text of a named prepared statement: `params` names the
 * `${…}` parameters in `$1, $2…` order, `fixed` fills the rest (SQL fragments). Hot, fixed-shape
 * queries use it so Postgres plans them once per connection instead of on every request.
 */
export function preparedText(qf: pgPromise.QueryFile, params: string[], fixed: Record<string, unknown> = {}): string {
  const values: Record<string, unknown> = { ...fixed };
  params.forEach((name, i) => (values[name] = positional(i + 1)));
  return pgPromise.as.format(qf, values);
}
