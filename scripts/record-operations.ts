// Runs the suite with operation recording on and writes test/corpus/operations.json: every
// distinct query/mutation document the suite sends, with the variables it was sent with.
// `npm run test:record-operations`; test/executors.test.ts replays the corpus under both executors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, getOperationAST } from 'graphql';

const dir = mkdtempSync(join(tmpdir(), 'chatgraph-ops-'));
const run = spawnSync('npx', ['vitest', 'run', '--exclude', 'test/executors.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, CHATGRAPH_RECORD_OPERATIONS: dir },
});
if (run.status !== 0) process.stderr.write('note: the suite did not pass; recording what it sent anyway\n');

interface Recorded {
  query: string;
  variables: Record<string, unknown>;
}
const seen = new Map<string, Recorded>();
for (const file of readdirSync(dir)) {
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    if (!line) continue;
    const op = JSON.parse(line) as Recorded;
    let kind: string | undefined;
    try {
      kind = getOperationAST(parse(op.query))?.operation;
    } catch {
      kind = 'query'; // a syntax error is part of the corpus too
    }
    if (kind === 'subscription') continue; // subscriptions always run on the standard executor
    if (line.length > 20_000) continue; // body-size limit tests: answered before execution
    seen.set(JSON.stringify(op), op);
  }
}
rmSync(dir, { recursive: true, force: true });
const operations = [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, op]) => op);
// One operation per line: diffs stay readable and deep inputs (fuzzed nesting) stay small.
writeFileSync(new URL('../test/corpus/operations.json', import.meta.url), `[\n${operations.map((op) => JSON.stringify(op)).join(',\n')}\n]\n`);
process.stdout.write(`test/corpus/operations.json: ${operations.length} operations\n`);
