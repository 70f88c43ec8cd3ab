// Writes a trusted documents manifest { "<sha256>": "<document>" } from client documents:
//   npm run trusted-documents -- 'client-example/src/**/*.{ts,tsx,graphql}' --out trusted-documents.json
// .graphql files are read whole; .ts/.tsx files contribute every gql`…`, graphql(`…`) and
// /* GraphQL */ `…` literal without interpolations. Each operation becomes one document with the
// fragments it uses (transitively), printed canonically and validated against schema.graphql;
// its hash is the sha256 of that text, which is what a client sends as documentId.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildSchema, Kind, parse, print, validate, visit, type DefinitionNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { glob } from 'tinyglobby';

const LITERAL = /(?:\bgql|\bgraphql\(\s*|\/\*\s*GraphQL\s*\*\/\s*)`([^`]*)`/g;

/** The GraphQL sources in one file. */
export function sourcesOf(file: string, text: string): string[] {
  if (file.endsWith('.graphql') || file.endsWith('.gql')) return [text];
  return [...text.matchAll(LITERAL)].map((m) => m[1]!).filter((s) => !s.includes('${'));
}

/** hash → document for every operation in `sources`; throws on an invalid or duplicate operation. */
export function buildManifest(sources: string[], schemaText: string): Record<string, string> {
  const schema = buildSchema(schemaText);
  const definitions: DefinitionNode[] = sources.flatMap((s) => parse(s).definitions);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const operations = definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const manifest: Record<string, string> = {};
  const names = new Set<string>();
  for (const operation of operations) {
    const name = operation.name?.value;
    if (!name) throw new Error('every trusted operation needs a name');
    if (names.has(name)) throw new Error(`operation ${name} is defined twice`);
    names.add(name);
    const used = new Map<string, FragmentDefinitionNode>();
    const collect = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          const fragment = fragments.get(spread.name.value);
          if (!fragment) throw new Error(`operation ${name} uses unknown fragment ${spread.name.value}`);
          if (!used.has(fragment.name.value)) {
            used.set(fragment.name.value, fragment);
            collect(fragment);
          }
        },
      });
    collect(operation);
    const document = { kind: Kind.DOCUMENT, definitions: [operation, ...[...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value))] } as const;
    const errors = validate(schema, document);
    if (errors.length > 0) throw new Error(`operation ${name}: ${errors.map((e) => e.message).join('; ')}`);
    const text = print(document);
    manifest[createHash('sha256').update(text).digest('hex')] = text;
  }
  return manifest;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, schema: { type: 'string' } } });
  if (positionals.length === 0 || !values.out) throw new Error("usage: trusted-documents '<glob>'… --out manifest.json [--schema schema.graphql]");
  const files = (await glob(positionals, { ignore: ['**/node_modules/**'] })).sort();
  if (files.length === 0) throw new Error(`no files match ${positionals.join(' ')}`);
  const sources = files.flatMap((f) => sourcesOf(f, readFileSync(f, 'utf8')));
  const schemaText = readFileSync(values.schema ?? join(import.meta.dirname ?? '.', '..', 'schema.graphql'), 'utf8');
  const manifest = buildManifest(sources, schemaText);
  writeFileSync(values.out, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`${Object.keys(manifest).length} trusted documents from ${files.length} files → ${values.out}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`trusted-documents: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
