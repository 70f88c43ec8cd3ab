import autocannon from 'autocannon';
import type { ServerProcess } from '../lib/children.js';
import type { LoadResult } from '../lib/report.js';
import { loadAverage, postgresCpuMs } from '../lib/machine.js';


export interface LoadOptions {
  connections: number;
  warmupSeconds: number;
  seconds: number;
  postmasterPid: number | null;
}

/**
 * A fixed-duration autocannon run (after an unmeasured warm-up at the same concurrency, which
 * lets JIT, pools and plan caches settle). Server CPU is the child's process.cpuUsage delta over
 * the measured window; Postgres CPU is read from /proc the same way.
 */
export async function measure(server: ServerProcess, target: string, round: number, request: { headers: Record<string, string>; body: string }, options: LoadOptions): Promise<LoadResult> {
  const base = {
    url: server.url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...request.headers },
    body: request.body,
    connections: options.connections,
  };
  if (options.warmupSeconds > 0) await autocannon({ ...base, duration: options.warmupSeconds });
  const cpu0 = await server.cpu();
  const pg0 = options.postmasterPid ? postgresCpuMs(options.postmasterPid) : null;
  const result = await autocannon({ ...base, duration: options.seconds });
  const cpu1 = await server.cpu();
  const pg1 = options.postmasterPid ? postgresCpuMs(options.postmasterPid) : null;
  const requests = result.requests.total;
  const perRequest = (ms: number) => (requests > 0 ? ms / requests : NaN);
  return {
    target,
    round,
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    serverCpuMsPerRequest: perRequest(cpu1.ms - cpu0.ms),
    postgresCpuMsPerRequest: pg0 !== null && pg1 !== null ? perRequest(pg1 - pg0) : null,
    serverRssMiB: cpu1.rss / 2 ** 20,
    loadAverage: loadAverage(),
  };
}
