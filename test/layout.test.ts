import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { GraphQLObjectType } from 'graphql';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';

/**
 * The layout rules a newcomer relies on to find things (stated in src/db/sql.ts,
 * src/schema/types/Chat.ts and src/config.ts), checked on the source itself so they cannot
 * quietly erode.
 */
const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => join(dir, f));

const parse = (file: string) => ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);

function visit(node: ts.Node, fn: (node: ts.Node) => void): void {
  fn(node);
  node.forEachChild((child) => visit(child, fn));
}

/** `file:line` of every node in src/ that `matches` (at the node it returns). */
function occurrences(matches: (node: ts.Node) => ts.Node | undefined): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(src)) {
    const source = parse(file);
    visit(source, (node) => {
      const at = matches(node);
      if (at) found.push(`${relative(root, file)}:${source.getLineAndCharacterOfPosition(at.getStart()).line + 1}`);
    });
  }
  return found;
}

/** pg-promise methods that run a statement given as their first argument. */
const QUERY_METHODS = new Set(['none', 'one', 'many', 'any', 'oneOrNone', 'manyOrNone', 'result', 'query', 'multi', 'multiResult', 'each', 'map']);

describe('SQL lives in .sql files', () => {
  it('no multi-line statement is written inline in src/', () => {
    const inline = occurrences((node) => {
      if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression) || !QUERY_METHODS.has(node.expression.name.text)) return;
      const statement = node.arguments[0];
      const literal = statement && (ts.isStringLiteralLike(statement) || ts.isTemplateExpression(statement));
      return literal && statement.getText().includes('\n') ? statement : undefined;
    });
    expect(inline).toEqual([]);
  });
});

interface FieldDefinition {
  type: string;
  field: string;
  file: string;
  /** Defined by the type's own `builder.node` / `builder.objectType` call. */
  own: boolean;
}

/** The top-level keys of `(t) => ({ … })`, or null when the fields are built some other way. */
function returnedKeys(fn: ts.Expression | undefined): string[] | null {
  if (!fn || !(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn))) return null;
  let body: ts.Node = fn.body;
  while (ts.isParenthesizedExpression(body)) body = body.expression;
  if (!ts.isObjectLiteralExpression(body)) return null;
  return body.properties.map((p) => (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : '?'));
}

/**
 * Fields each type file adds to an object type by ref: `builder.node(Ref, { fields })` (plus
 * `id`), `builder.objectType(Ref, { fields })`, `builder.objectFields(Ref, (t) => ({ … }))` and
 * `builder.objectField(Ref, 'name', …)`. Ref names equal GraphQL type names (STYLE.md).
 */
function fieldDefinitions(file: string): FieldDefinition[] {
  const out: FieldDefinition[] = [];
  const name = basename(file);
  visit(parse(file), (node) => {
    if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return;
    if (node.expression.expression.getText() !== 'builder') return;
    const method = node.expression.name.text;
    const [ref, second] = node.arguments;
    if (!ref || !ts.isIdentifier(ref)) return;
    const own = method === 'node' || method === 'objectType';
    const add = (field: string) => out.push({ type: ref.text, field, file: name, own });
    if (method === 'objectField' && second && ts.isStringLiteral(second)) add(second.text);
    if (method === 'objectFields') {
      const keys = returnedKeys(second);
      if (!keys) throw new Error(`${name}: builder.objectFields(${ref.text}, …) does not return an object literal; teach test/layout.test.ts to read it`);
      keys.forEach(add);
    }
    if (own && second && ts.isObjectLiteralExpression(second)) {
      if (method === 'node') add('id');
      const fields = second.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText() === 'fields');
      const keys = returnedKeys(fields?.initializer);
      if (!keys) throw new Error(`${name}: the fields of ${ref.text} are not an object literal; teach test/layout.test.ts to read them`);
      keys.forEach(add);
    }
  });
  return out;
}

/** The "every field defined elsewhere" index of a type file's opening comment: field → file. */
function fieldIndex(file: string): Record<string, string> {
  const index: Record<string, string> = {};
  for (const m of readFileSync(file, 'utf8').matchAll(/^ \*\s+(\w+)\s+(\w+\.ts)\s*$/gm)) index[m[1]!] = m[2]!;
  return index;
}

/** Where each ref is declared (`const ChatCostTotals = builder.objectRef…`). */
function declarations(file: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  visit(parse(file), (node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer?.getText().startsWith('builder.')) {
      out.push([node.name.text, basename(file)]);
    }
  });
  return out;
}

describe('every field of Chat is findable from src/schema/types/Chat.ts', () => {
  const typesDir = join(src, 'schema', 'types');
  const files = sourceFiles(typesDir);
  const definitions = files.flatMap(fieldDefinitions);
  // A type's home: the file of its node/objectType call, else the file declaring its ref.
  const home = new Map([...files.flatMap(declarations), ...definitions.filter((d) => d.own).map((d): [string, string] => [d.type, d.file])]);
  const attachedElsewhere = (type: string) =>
    Object.fromEntries(definitions.filter((d) => d.type === type && d.file !== home.get(type)).map((d) => [d.field, d.file]));

  it('reads every field of Chat in the built schema from the type files', () => {
    const built = Object.keys((schema.getType('Chat') as GraphQLObjectType).getFields()).sort();
    expect(definitions.filter((d) => d.type === 'Chat').map((d) => d.field).sort()).toEqual(built);
  });

  it("names each field defined outside Chat.ts, and its file, in Chat.ts's index", () => {
    expect(home.get('Chat')).toBe('Chat.ts');
    expect(fieldIndex(join(typesDir, 'Chat.ts'))).toEqual(attachedElsewhere('Chat'));
  });

  it('indexes, in its own file, the fields other files attach to any other type', () => {
    for (const type of new Set(definitions.filter((d) => d.file !== home.get(d.type) && d.type !== 'Chat').map((d) => d.type))) {
      expect({ type, index: fieldIndex(join(typesDir, home.get(type) ?? `${type}.ts`)) }).toEqual({ type, index: attachedElsewhere(type) });
    }
  });
});

describe('configuration', () => {
  it('only src/config.ts reads process.env', () => {
    const readers = occurrences((node) => (ts.isPropertyAccessExpression(node) && node.getText() === 'process.env' ? node : undefined));
    expect(readers.filter((r) => !r.startsWith('src/config.ts:'))).toEqual([]);
  });
});
