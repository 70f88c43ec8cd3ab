import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

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

/** A second gateway: a real `chatgraph start` process on the same database. */
export interface Gateway {
  child: ChildProcess;
  url: string;
  /** A graphql-ws client to it (disposed by stop()). */
  ws(token: string): Client;
  stop(): Promise<void>;
}

/** Starts `chatgraph start` on `databaseUrl` (port 0) and resolves once it serves. */
export function startGateway(databaseUrl: string, env: Record<string, string> = {}): Promise<Gateway> {
  const childEnv = { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', GRAPHIQL: 'false', ...env };
  const child = spawn(process.execPath, [join(root, 'bin/chatgraph.js'), 'start'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const clients: Client[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`second gateway did not start:\n${out}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`second gateway exited ${code}:\n${out}`)));
    child.stdout!.on('data', () => {
      const url = /serving GraphQL at (\S+)/.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        child,
        url,
        ws(token) {
          const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authToken: token }, retryAttempts: 0 });
          clients.push(client);
          return client;
        },
        async stop() {
          await Promise.all(clients.map((c) => c.dispose()));
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
