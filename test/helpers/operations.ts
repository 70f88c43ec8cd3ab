import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Records the GraphQL operations the suite sends (document + variables) when
 * `CHATGRAPH_RECORD_OPERATIONS` names a directory; `npm run test:record-operations` collects
 * them into test/corpus/operations.json, which test/executors.test.ts replays under both
 * executors. Off (a no-op) in ordinary runs.
 */
export function recordOperation(query: string, variables: Record<string, unknown> | undefined): void {
  const dir = process.env.CHATGRAPH_RECORD_OPERATIONS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `ops-${process.pid}.jsonl`), `${JSON.stringify({ query, variables: variables ?? {} })}\n`);
}
