import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/** A Postgres cluster of one test file's own, for faults that would break the shared test server. */
export interface Cluster {
  port: number;
  url(database: string, applicationName?: string): string;
  /** `pg_ctl restart -m fast`: every connection is cut, the server is back when this resolves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a Postgres tool, as the postgres OS user when we are root (Postgres refuses root). */
function pgTool(tool: string, args: string[]) {
  const file = join(BIN, tool);
  return userInfo().uid === 0 ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
}

/** initdb + start of a throwaway Debian Postgres 15 cluster on a free port (fsync off: tests only). */
export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'chatgraph-faults-'));
  chmodSync(dir, 0o755);
  if (userInfo().uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pgdata = join(dir, 'pg');
  await pgTool('initdb', ['-D', pgdata, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = [
    `-c port=${port}`, '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${dir}`,
    '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=100',
  ].join(' ');
  await pgTool('pg_ctl', ['-D', pgdata, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  let stopped: Promise<void> | undefined;
  return {
    port,
    url: (database, applicationName) =>
      `postgres://postgres@127.0.0.1:${port}/${database}${applicationName ? `?application_name=${applicationName}` : ''}`,
    async restart() {
      // restart reuses the options of the previous start (postmaster.opts).
      await pgTool('pg_ctl', ['-D', pgdata, '-m', 'fast', '-w', '-t', '60', '-l', join(dir, 'log'), 'restart']);
    },
    stop() {
      stopped ??= (async () => {
        await pgTool('pg_ctl', ['-D', pgdata, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
