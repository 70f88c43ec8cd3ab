import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

/**
 * Docker cannot run on this machine, so the Dockerfile is (1) linted with dockerfile-utils (the
 * linter behind VS Code's Dockerfile support; hadolint is neither on npm nor in Debian) plus the
 * hadolint rules that matter here, and (2) replayed outside Docker: each stage gets a directory,
 * WORKDIR/COPY/ENV/RUN run as written (RUN through bash), and the final stage's CMD starts the
 * gateway, whose HEALTHCHECK command must pass before SIGTERM stops it with exit 0. What this
 * cannot check: the base image itself and the `USER node` switch (the replay runs as the current user).
 */
const root = new URL('..', import.meta.url).pathname;
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
vi.setConfig({ testTimeout: 600_000 });

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (!pending) start = i + 1;
    pending += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith('\\')) return;
    const m = /^(\w+)\s+([\s\S]*)$/.exec(pending)!;
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    pending = '';
  });
  return out;
}

interface Stage {
  name: string;
  image: string;
  steps: Instruction[];
}

function stages(list: Instruction[]): Stage[] {
  const result: Stage[] = [];
  for (const instruction of list) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      result.push({ name: as?.toUpperCase() === 'AS' ? name! : String(result.length), image: image!, steps: [] });
    } else result.at(-1)!.steps.push(instruction);
  }
  return result;
}

const all = instructions(dockerfile);
const parsed = stages(all);
const final = parsed.at(-1)!;

describe('Dockerfile lint', () => {
  it('has no dockerfile-utils diagnostics', () => {
    expect(validate(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('follows the hadolint rules that apply: pinned bases, COPY not ADD, npm ci, exec-form CMD, non-root, healthcheck on /ready', () => {
    expect(parsed.length).toBeGreaterThanOrEqual(2); // multi-stage
    for (const stage of parsed) expect(stage.image).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/); // DL3006, DL3007
    expect(all.filter((i) => i.keyword === 'ADD')).toEqual([]); // DL3020
    for (const run of all.filter((i) => i.keyword === 'RUN')) expect(run.args).not.toMatch(/\bnpm install\b|\bsudo\b|\bcd\s/); // DL3016-ish, DL3004, DL3003
    for (const workdir of all.filter((i) => i.keyword === 'WORKDIR')) expect(isAbsolute(workdir.args)).toBe(true); // DL3000
    const user = final.steps.filter((i) => i.keyword === 'USER').at(-1);
    expect(user?.args).toBe('node'); // DL3002: the last USER is not root
    const cmd = final.steps.find((i) => i.keyword === 'CMD')!;
    expect(JSON.parse(cmd.args)).toEqual(['node', 'dist/index.js', 'start']); // DL3025: exec form, compiled JS
    const health = final.steps.find((i) => i.keyword === 'HEALTHCHECK')!;
    expect(health.args).toMatch(/\/ready/);
    // Dev dependencies and sources stay out of the final stage.
    const copies = final.steps.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.some((c) => /--from=build\s+\/app\/dist\b/.test(c))).toBe(true);
    expect(copies.some((c) => /(^|\s)src(\s|$)/.test(c))).toBe(false);
  });

  it('compose runs Postgres, a migration, two gateway replicas and a proxy that passes WebSockets', () => {
    const compose = readFileSync(join(root, 'deploy/compose.yaml'), 'utf8');
    const nginx = readFileSync(join(root, 'deploy/nginx.conf'), 'utf8');
    for (const service of ['postgres', 'migrate', 'gateway-1', 'gateway-2', 'proxy']) expect(compose).toMatch(new RegExp(`^  ${service}:`, 'm'));
    expect(compose).toMatch(/service_completed_successfully/);
    expect(nginx).toMatch(/server gateway-1:4000/);
    expect(nginx).toMatch(/server gateway-2:4000/);
    expect(nginx).toMatch(/proxy_http_version 1\.1;/);
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(nginx).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
  });
});

describe('Dockerfile build steps, replayed outside Docker', () => {
  let work: string;
  let database: TestDatabase;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'chatgraph-image-'));
    database = await createTestDatabase({ template: false, poolSize: 1 });
  });
  afterAll(async () => {
    await database?.close();
    // Two node_modules trees: deleting them can take minutes on a busy machine, so in the background.
    if (work) spawn('rm', ['-rf', work], { detached: true, stdio: 'ignore' }).unref();
  });

  it('every stage builds, and the final image serves, passes its healthcheck and stops on SIGTERM', async () => {
    const envs = new Map<string, Record<string, string>>();
    const workdirs = new Map<string, string>();
    for (const stage of parsed) {
      const stageRoot = join(work, stage.name);
      mkdirSync(stageRoot, { recursive: true });
      const env: Record<string, string> = {};
      let workdir = stageRoot;
      for (const step of stage.steps) {
        if (step.keyword === 'WORKDIR') {
          workdir = join(stageRoot, step.args);
          mkdirSync(workdir, { recursive: true });
        } else if (step.keyword === 'ENV') {
          for (const [, k, v] of step.args.matchAll(/(\w+)=(\S+)/g)) env[k!] = v!;
        } else if (step.keyword === 'COPY') {
          const words = step.args.split(/\s+/);
          const from = words[0]!.startsWith('--from=') ? words.shift()!.slice('--from='.length) : null;
          const dest = words.pop()!;
          const target = join(workdir, dest);
          for (const source of words) {
            const path = from ? join(work, from, source) : join(root, source);
            expect({ line: step.line, exists: existsSync(path) }).toEqual({ line: step.line, exists: true });
            const to = dest.endsWith('/') || words.length > 1 ? join(target, basename(source)) : target;
            mkdirSync(join(to, '..'), { recursive: true });
            // Hard links for whole trees (node_modules) keep the replay fast; the result is the same files.
            if (from) expect(spawnSync('cp', ['-al', path, to]).status).toBe(0);
            else cpSync(path, to, { recursive: true });
          }
        } else if (step.keyword === 'RUN') {
          const r = await new Promise<{ code: number | null; out: string }>((resolve) =>
            execFile('bash', ['-ec', step.args], { cwd: workdir, env: { ...process.env, ...env, CI: 'true' }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
              resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}`.slice(-3000) }),
            ),
          );
          expect({ stage: stage.name, line: step.line, code: r.code, out: r.code === 0 ? '' : r.out }).toEqual({ stage: stage.name, line: step.line, code: 0, out: '' });
        }
      }
      envs.set(stage.name, env);
      workdirs.set(stage.name, workdir);
    }

    // The final image: no TypeScript sources, no dev dependencies, compiled JS and migrations.
    const app = workdirs.get(final.name)!;
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'vitest'))).toBe(false);
    expect(existsSync(join(app, 'dist', 'index.js'))).toBe(true);

    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    // HOST is narrowed to loopback for the test (the image binds 0.0.0.0).
    const env = { ...process.env, ...envs.get(final.name)!, HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: database.url, LOG_LEVEL: 'warn' };
    const [command, ...args] = JSON.parse(final.steps.find((i) => i.keyword === 'CMD')!.args) as string[];
    const child = spawn(command!, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const health = final.steps.find((i) => i.keyword === 'HEALTHCHECK')!.args;
      const [probeCommand, ...probeArgs] = JSON.parse(health.slice(health.indexOf('CMD') + 3).trim()) as string[];
      const probe = () => new Promise<number>((resolve) => execFile(probeCommand!, probeArgs, { env }, (err) => resolve(err ? 1 : 0)));
      await expect.poll(probe, { timeout: 60_000, interval: 500 }).toBe(0);
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
      // NODE_ENV=production: no GraphiQL page.
      const page = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    } finally {
      child.kill('SIGTERM');
    }
    expect({ code: await exited, output: '' }).toEqual({ code: 0, output: output.includes('"level":50') ? output : '' });
  });
});
