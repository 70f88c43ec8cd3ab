import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from '../servers/child.js';

const serversDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'servers');

/** A benchmarked server running in its own process (see bench/servers/child.ts). */
export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** CPU time the process has used so far, in milliseconds; rss in bytes. */
  cpu(): Promise<{ ms: number; rss: number }>;
  /** Statements the server sent to Postgres while `action` ran (null when it cannot tell). */
  countStatements(action: () => Promise<void>): Promise<string[] | null>;
  stop(): Promise<void>;
}

function request<T extends ChildMessage['type']>(child: ChildProcess, message: ParentMessage, reply: T, timeoutMs = 10_000): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no ${reply} reply from pid ${child.pid}`));
    }, timeoutMs);
    const onMessage = (m: ChildMessage) => {
      if (m.type !== reply) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m as Extract<ChildMessage, { type: T }>);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/**
 * Forks bench/servers/<script> with the tsx loader the parent runs under, waits for it to
 * listen, and returns a handle. A child that does not come up in `startTimeoutMs` is killed and
 * the error carries the tail of its stderr.
 */
export async function startServer(name: string, script: string, env: Record<string, string>, startTimeoutMs = 120_000): Promise<ServerProcess> {
  // BENCH_CPU_PROFILE=<dir>: each server writes V8 .cpuprofile files to <dir>/<name>/ when it
  // exits (one per thread: the largest is the main thread; the others are tsx's loader worker).
  const profileDir = process.env.BENCH_CPU_PROFILE;
  const child = fork(join(serversDir, script), [], {
    execArgv: profileDir ? [...process.execArgv, '--cpu-prof', '--cpu-prof-dir', join(profileDir, name)] : process.execArgv,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    // Quiet by default (PostGraphile dumps a long warning about the xid8 column at start-up);
    // the tail is kept for error messages.
    if (process.env.BENCH_VERBOSE === '1') process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${startTimeoutMs / 1000}s: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
    }, startTimeoutMs);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.url);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
  return {
    name,
    url,
    pid: child.pid!,
    async cpu() {
      const m = await request(child, { type: 'cpu' }, 'cpu');
      return { ms: (m.user + m.system) / 1000, rss: m.rss };
    },
    async countStatements(action) {
      await request(child, { type: 'count-start' }, 'ack');
      await action();
      return (await request(child, { type: 'count-stop' }, 'count')).statements;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'stop' } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
