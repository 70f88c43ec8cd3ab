import { readFileSync, writeFileSync } from 'node:fs';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  isCompositeType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createToken } from '../src/auth/admin.js';
import { ensureDatabase } from '../src/db/embedded.js';
import { createDb, type Db } from '../src/db/index.js';
import { seedDemo } from '../src/db/seed.js';
import { schema } from '../src/schema/index.js';
import { createTestDatabase, databaseUrl } from './helpers/db.js';
import { startTestServer, type GqlResponse, type TestServer } from './helpers/server.js';

/**
 * The executor must give graphql-js's answers. Every query and mutation the suite sends
 * (test/corpus/operations.json, refreshed by `npm run test:record-operations`) plus a literal and
 * a variable form of every argument of every root field (so every scalar, enum and input type,
 * valid and invalid) runs on two servers over twin copies of the seeded demo database, one
 * executing with graphql-js and one with graphql-jit, in the same order. Data, errors (messages,
 * paths, locations, codes) and HTTP status must be identical once the values that two databases
 * generate differently (fresh uuids, timestamps) are replaced by their order of appearance.
 */

interface Operation {
  query: string;
  variables: Record<string, unknown>;
}

const CHAT = Buffer.from('Chat:20000000-0000-4000-8000-000000000001').toString('base64');
const MODEL = Buffer.from('ChatModelConfig:10000000-0000-4000-8000-000000000001').toString('base64');

/** A valid sample of `type` for an argument or input field named `name`. */
function sample(type: GraphQLInputType, name: string): unknown {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) return [sample(nullable.ofType, name)];
  if (isEnumType(nullable)) return nullable.getValues()[0]!.value;
  if (isInputObjectType(nullable)) {
    const out: Record<string, unknown> = {};
    for (const field of Object.values(nullable.getFields())) out[field.name] = sample(field.type, field.name);
    if (process.env.CHATGRAPH_EXECUTOR_DIFF_OUT) writeFileSync(process.env.CHATGRAPH_EXECUTOR_DIFF_OUT, JSON.stringify(out, null, 1));
    return out;
  }
  switch (nullable.name) {
    case 'ID':
      return /model/i.test(name) ? MODEL : CHAT;
    case 'Int':
      return /first|last|limit/i.test(name) ? 2 : 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return false;
    case 'BigInt':
      return /contextLimit/.test(name) ? 200000 : 42;
    case 'DateTime':
      return '2026-01-02T03:04:05.000Z';
    case 'JSON':
      return /parts|content/i.test(name) ? [{ type: 'text', text: 'hi' }] : { team: 'core' };
    default:
      return /Price/.test(name) ? '3.5' : name === 'text' ? 'hello' : `s-${name}`;
  }
}

/** Values a scalar must reject (or, for BigInt, the edges it must accept). */
const EDGES: Record<string, unknown[]> = {
  BigInt: ['9223372036854775807', '9223372036854775808', 'abc', 1.5, -1],
  DateTime: ['not-a-date', '2026-13-40T00:00:00Z', 0],
  JSON: [null, 'text', 12, [1, { a: [true] }]],
  Int: [2.5, '3', 2147483648],
  Float: ['x', 1e308],
  Boolean: ['true', 0],
  ID: [12, {}, 'bm90IGEgZ2xvYmFsIGlk'],
  String: [7, ['a']],
};

/** Every path to a scalar or enum leaf inside `type`, with the leaf's type. */
function leaves(type: GraphQLInputType, path: string[] = []): Array<{ path: string[]; type: GraphQLInputType }> {
  const named = getNamedType(type);
  if (isInputObjectType(named)) {
    return Object.values(named.getFields()).flatMap((f) => leaves(f.type, [...path, f.name]));
  }
  return [{ path, type: named }];
}

function withLeaf(value: unknown, path: string[], leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v) => withLeaf(v, path, leaf));
  const obj = { ...(value as Record<string, unknown>) };
  obj[head!] = withLeaf(obj[head!], rest, leaf);
  return obj;
}

function selection(field: GraphQLField<unknown, unknown>): string {
  return isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
}

/** `value` written inline as GraphQL source, valid for `type` or not (enum names bare). */
function literalOf(value: unknown, type: GraphQLInputType): string {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => literalOf(v, isListType(nullable) ? nullable.ofType : nullable)).join(', ')}]`;
  if (typeof value === 'object') {
    const fields = isInputObjectType(nullable) ? nullable.getFields() : {};
    const entries = Object.entries(value).map(([k, v]) => `${k}: ${literalOf(v, fields[k]?.type ?? nullable)}`);
    return `{${entries.join(', ')}}`;
  }
  if (typeof value === 'string' && isEnumType(getNamedType(nullable)) && /^[_A-Za-z]\w*$/.test(value)) return value;
  return JSON.stringify(value);
}

/** The literal (inline) and variable form of one call of `field` with `args`. */
function forms(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, args: Map<GraphQLArgument, unknown>): Operation[] {
  const entries = [...args.entries()];
  const literal = entries
    .map(([arg, value]) => {
      return `${arg.name}: ${literalOf(value, arg.type)}`;
    });
  const sel = selection(field);
  const ops: Operation[] = [];
  if (literal.length === entries.length) {
    ops.push({ query: `${kind} { ${field.name}${literal.length ? `(${literal.join(', ')})` : ''}${sel} }`, variables: {} });
  }
  if (entries.length) {
    const defs = entries.map(([arg]) => `$${arg.name}: ${String(arg.type)}`).join(', ');
    const uses = entries.map(([arg]) => `${arg.name}: $${arg.name}`).join(', ');
    ops.push({ query: `${kind} V(${defs}) { ${field.name}(${uses})${sel} }`, variables: Object.fromEntries(entries.map(([a, v]) => [a.name, v])) });
  }
  return ops;
}

/** Literal and variable forms of every argument of every root field: valid samples, then edges per leaf. */
function generatedOperations(): Operation[] {
  const ops: Operation[] = [];
  const roots: Array<['query' | 'mutation', GraphQLObjectType]> = [
    ['query', schema.getQueryType()!],
    ['mutation', schema.getMutationType()!],
  ];
  for (const [kind, root] of roots) {
    for (const field of Object.values(root.getFields())) {
      const valid = new Map(field.args.map((a) => [a, sample(a.type, a.name)]));
      ops.push(...forms(kind, field, valid));
      for (const arg of field.args) {
        for (const leaf of leaves(arg.type)) {
          const named = getNamedType(leaf.type);
          const bad = isScalarType(named) ? (EDGES[named.name] ?? []) : isEnumType(named) ? ['NOT_A_VALUE', 'waiting'] : [];
          for (const value of bad) {
            const args = new Map(valid);
            args.set(arg, withLeaf(valid.get(arg), leaf.path, value));
            ops.push(...forms(kind, field, args));
          }
          if (!isNonNullType(leaf.type) && leaf.path.length > 0) {
            const args = new Map(valid);
            args.set(arg, withLeaf(valid.get(arg), leaf.path, null));
            ops.push(...forms(kind, field, args));
          }
        }
      }
    }
  }
  return ops;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/g;

/**
 * Replaces what two databases generate differently by its order of first appearance on that
 * side (uuids, also inside base64 global ids and cursors) or by a placeholder (timestamps).
 */
function normalizer(): (value: unknown) => unknown {
  const ids = new Map<string, string>();
  const text = (s: string): string => {
    if (s.length >= 8 && /^[A-Za-z0-9+/_-]+=*$/.test(s)) {
      const decoded = Buffer.from(s, 'base64').toString('utf8');
      const bare = (e: string) => e.replace(/=+$/, '');
      const again = Buffer.from(decoded, 'utf8');
      if ([again.toString('base64'), again.toString('base64url')].some((e) => bare(e) === bare(s)) && /^[\x20-\x7e]+$/.test(decoded)) {
        // Cursors carry their sort key: a timestamp in microseconds.
        return `base64(${text(decoded).replace(/\b\d{13,17}\b/g, '<epoch>')})`;
      }
    }
    return s
      .replace(UUID, (u) => {
        if (!ids.has(u)) ids.set(u, `uuid#${ids.size}`);
        return ids.get(u)!;
      })
      .replace(TIME, '<time>');
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk;
}

describe('graphql-jit against graphql-js', () => {
  let js: TestServer;
  let jit: TestServer;
  const dbs: Db[] = [];
  let token: string;

  beforeAll(async () => {
    const source = await createTestDatabase();
    await seedDemo(source.db);
    // A token with every scope, so each operation reaches its resolvers.
    ({ token } = await createToken(source.db, { username: 'admin', scopes: ['user', 'worker', 'admin'] }));
    await source.close();
    for (const suffix of ['js', 'jit']) {
      const name = `${source.name}_${suffix}`;
      await ensureDatabase(inject('adminUrl'), name, source.name);
      dbs.push(createDb(databaseUrl(name), 5));
    }
    js = await startTestServer(dbs[0]!, { GRAPHQL_JIT: 'false' });
    jit = await startTestServer(dbs[1]!, { GRAPHQL_JIT: 'true' });
  });
  afterAll(async () => {
    await js?.stop();
    await jit?.stop();
    await Promise.all(dbs.map((db) => db.$pool.end()));
  });

  /** Runs `ops` in order on both servers; returns every operation whose answers differ. */
  async function differences(ops: Operation[]) {
    const [normJs, normJit] = [normalizer(), normalizer()];
    const out: Array<{ query: string; variables: unknown; js: unknown; jit: unknown }> = [];
    for (const op of ops) {
      const a: GqlResponse<unknown> = await js.gql(op.query, op.variables, token);
      const b: GqlResponse<unknown> = await jit.gql(op.query, op.variables, token);
      // Top-level key order (data before errors or after) carries no meaning; everything inside does.
      const sorted = (r: GqlResponse<unknown>) => Object.fromEntries(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1)));
      const [na, nb] = [normJs(sorted(a)), normJit(sorted(b))];
      if (JSON.stringify(na) !== JSON.stringify(nb)) out.push({ query: op.query, variables: op.variables, js: na, jit: nb });
    }
    if (process.env.CHATGRAPH_EXECUTOR_DIFF_OUT) writeFileSync(process.env.CHATGRAPH_EXECUTOR_DIFF_OUT, JSON.stringify(out, null, 1));
    return out;
  }

  it('answers every argument form of every root field identically (literal and variable, valid and invalid)', async () => {
    const ops = generatedOperations();
    expect(ops.length).toBeGreaterThan(300);
    const diff = await differences(ops);
    expect(diff.slice(0, 5)).toEqual([]);
    expect(diff.length).toBe(0);
  }, 300_000);

  it("answers every operation of the suite's corpus identically", async () => {
    const ops = JSON.parse(readFileSync(new URL('./corpus/operations.json', import.meta.url), 'utf8')) as Operation[];
    expect(ops.length).toBeGreaterThan(100);
    const diff = await differences(ops);
    expect(diff.slice(0, 5)).toEqual([]);
    expect(diff.length).toBe(0);
  }, 300_000);
});
