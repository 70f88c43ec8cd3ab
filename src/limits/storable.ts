/**
 * Text that Postgres cannot store: NUL characters (`text` and `jsonb` reject U+0000) and lone
 * UTF-16 surrogates (`jsonb` rejects the `\ud800` escape JSON.stringify writes for them). Input
 * holding either is refused before it reaches a statement, so bad input is a ValidationError
 * naming the field, never a database error.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Deepest nesting of arrays/objects accepted in an argument (JSON values included). */
export const MAX_INPUT_DEPTH = 32;

export type InputProblem = { path: string; reason: 'unstorable' | 'depth' };

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/**
 * The first unstorable string (value or object key) or over-deep nesting in `value`, with its
 * path (`input.content[0].text`); null when everything can be stored. Iterative, so a hostile
 * depth cannot overflow the stack.
 */
export function findUnstorable(value: unknown, root = ''): InputProblem | null {
  const stack: Array<[unknown, string, number]> = [[value, root, 0]];
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return { path, reason: 'unstorable' };
    } else if (v !== null && typeof v === 'object' && !(v instanceof Date) && typeof v !== 'bigint') {
      if (depth >= MAX_INPUT_DEPTH) return { path, reason: 'depth' };
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], join(path, i), depth + 1]);
      } else {
        const entries = Object.entries(v as Record<string, unknown>);
        for (let i = entries.length - 1; i >= 0; i--) {
          const [k, item] = entries[i]!;
          if (UNSTORABLE.test(k)) return { path: join(path, k), reason: 'unstorable' };
          stack.push([item, join(path, k), depth + 1]);
        }
      }
    }
  }
  return null;
}

/** The message of a ValidationError for a problem found by findUnstorable. */
export function describeProblem(problem: InputProblem): string {
  return problem.reason === 'unstorable'
    ? `"${problem.path}" contains a NUL character or an unpaired surrogate, which cannot be stored`
    : `"${problem.path}" is nested deeper than ${MAX_INPUT_DEPTH} levels`;
}
