import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, getOperationAST } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createToken } from '../src/auth/admin.js';
import { seedDemo } from '../src/db/seed.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Every `sh` and `graphql` block of README.md runs here against a fresh, demo-seeded server, so
 * the README cannot drift from the code. A block that cannot run in a test is marked in the
 * README with `<!-- readme-test: skip (why) -->` on the line before it; this file lists the skips
 * it saw so the list stays visible. Shell blocks run as written with two substitutions: the
 * README's `http://127.0.0.1:4000` is this server's address, and `TOKEN` starts as a demo token
 * (alice's), as the README says.
 */
const root = new URL('..', import.meta.url).pathname;
vi.setConfig({ testTimeout: 240_000 });

interface Block {
  lang: 'sh' | 'graphql';
  line: number;
  code: string;
  skip: string | null;
}

/** Fenced blocks of a markdown file, with the skip marker of the line before each. */
function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    const lang = open[1];
    if (lang === 'sh' || lang === 'graphql') {
      const marker = /<!--\s*readme-test:\s*skip\s*\((.+)\)\s*-->/.exec(lines[i - 1] ?? '');
      blocks.push({ lang, line: i + 1, code: lines.slice(i + 1, end).join('\n'), skip: marker?.[1] ?? null });
    }
    i = end;
  }
  return blocks;
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = codeBlocks(readme);

function run(script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd: root, env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn', CI: 'true' }, timeout: 180_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

let database: TestDatabase;
let server: TestServer;
let alice: string;
let work: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemo(database.db);
  alice = (await createToken(database.db, { username: 'alice', name: 'demo' })).token;
  server = await startTestServer(database.db);
  work = mkdtempSync(join(tmpdir(), 'chatgraph-readme-'));
});

afterAll(async () => {
  await server?.stop();
  await database?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('README examples', () => {
  it('marks only the blocks that cannot run in a test', () => {
    // Keep this list tiny: every entry is a documented command nobody checks automatically.
    expect(blocks.filter((b) => b.skip).map((b) => b.skip)).toEqual([
      'installs packages and serves until stopped; test/cli.test.ts runs the same start',
      'serves until stopped; client-example/test/dashboard.e2e.test.ts builds and serves the dashboard against a gateway',
      'watches until stopped; client-example/test/watch.test.ts runs the watcher against a gateway',
      'needs Docker, absent on the test machine, and reinstalls node_modules; test/container.test.ts lints the Dockerfile and replays its build steps',
    ]);
    expect(blocks.filter((b) => !b.skip).length).toBeGreaterThanOrEqual(6);
  });

  it('every shell block runs as written and exits 0, in order, sharing variables', async () => {
    const origin = new URL(server.url).origin;
    const envFile = join(work, 'env.sh');
    const carried = ['TOKEN', ...new Set(blocks.flatMap((b) => [...b.code.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!)))];
    writeFileSync(envFile, `export TOKEN=${alice}\n`);
    for (const block of blocks.filter((b) => b.lang === 'sh' && !b.skip)) {
      const script = [
        'set -euo pipefail',
        `source ${envFile}`,
        block.code.replaceAll('http://127.0.0.1:4000', origin),
        // Variables a block sets (TOKEN=$(…)) carry over to the next one, as in one terminal.
        `declare -p ${carried.join(' ')} 2>/dev/null > ${envFile} || true`,
      ].join('\n');
      // Asynchronously: the server answering curl lives in this process.
      const r = await run(script);
      expect({ line: block.line, status: r.status, stderr: r.stderr }).toEqual({ line: block.line, status: 0, stderr: '' });
      // A GraphQL answer printed by curl must not carry errors.
      for (const json of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
        expect({ line: block.line, errors: (JSON.parse(json) as { errors?: unknown }).errors }).toEqual({ line: block.line, errors: undefined });
      }
    }
  });

  it('every GraphQL block validates and runs without errors (subscriptions deliver an event)', async () => {
    const chats = await server.gql<{ chats: { nodes: Array<{ id: string }> } }>('{ chats(first: 1, archived: false) { nodes { id } } }', {}, alice);
    const chatId = chats.data!.chats.nodes[0]!.id;
    // Operations whose required variables the README leaves to the reader get them here.
    const variables: Record<string, Record<string, unknown>> = {
      Send: { input: { chatId, content: [{ type: 'TEXT', text: 'Hello from the README' }] } },
    };
    for (const block of blocks.filter((b) => b.lang === 'graphql' && !b.skip)) {
      const document = parse(block.code);
      const operation = getOperationAST(document);
      expect({ line: block.line, operation: operation?.name?.value ?? null }).not.toEqual({ line: block.line, operation: null });
      const name = operation!.name!.value;
      if (operation!.operation === 'subscription') {
        const client = server.ws({ authToken: alice });
        const events: unknown[] = [];
        const done = new Promise<void>((resolve, reject) => {
          client.subscribe({ query: block.code, variables: variables[name] ?? {} }, {
            next: (value) => {
              events.push(value);
              resolve();
            },
            error: reject,
            complete: resolve,
          });
        });
        // Something to watch: rename alice's chat until the event arrives.
        let n = 0;
        const poke = setInterval(() => void server.gql('mutation($id: ID!, $t: String!) { updateChat(input: { chatId: $id, title: $t }) { __typename } }', { id: chatId, t: `README ${++n}` }, alice), 300);
        try {
          await done;
        } finally {
          clearInterval(poke);
        }
        expect({ line: block.line, errors: (events[0] as { errors?: unknown }).errors }).toEqual({ line: block.line, errors: undefined });
        continue;
      }
      const result = await server.gql(block.code, variables[name] ?? {}, alice);
      expect({ line: block.line, status: result.status, errors: result.errors }).toEqual({ line: block.line, status: 200, errors: undefined });
      expect(result.data).toBeTruthy();
    }
  });
});
