import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A real `chatgraph start` process (another gateway replica) on `databaseUrl`. */
export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Everything it printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export function startGatewayProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const childEnv = { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', GRAPHIQL: 'false', ...env };
  const child = spawn(process.execPath, [join(root, 'bin/chatgraph.js'), 'start'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway process did not start:\n${out}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`gateway process exited ${code}:\n${out}`)));
    child.stdout!.on('data', () => {
      const served = /serving GraphQL at (\S+)/.exec(out)?.[1];
      if (served) {
        clearTimeout(timer);
        resolve({ child, url: served, output: () => out, stop });
      }
    });
  });
}
