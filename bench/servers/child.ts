/**
 * The child side of a benchmarked server. Each server under test runs in its own process so that
 * its CPU time (process.cpuUsage) is its own and the load generator in the parent never shares
 * its event loop. The parent talks over the fork IPC channel:
 *   → { type: 'cpu' }          ← { type: 'cpu', user, system, rss }   (microseconds, bytes)
 *   → { type: 'count-start' }  ← { type: 'ack' }   (acknowledged, so no request can overtake it)
 *   → { type: 'count-stop' }   ← { type: 'count', statements }
 *   → { type: 'stop' }         the child closes its server and pool and exits
 * and the child announces itself with { type: 'ready', url }.
 */

/** What a benchmarked server gives the harness. */
export interface ChildServer {
  /** Listens on 127.0.0.1, port 0; resolves to the URL to POST queries to. */
  start(): Promise<string>;
  stop(): Promise<void>;
  /** Collects the SQL statements sent between start and stop (for statements per request). */
  counter?: { start(): void; stop(): string[] };
}

export type ParentMessage = { type: 'cpu' } | { type: 'count-start' } | { type: 'count-stop' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'cpu'; user: number; system: number; rss: number }
  | { type: 'ack' }
  | { type: 'count'; statements: string[] | null };

/** Runs `child` under the parent's control; exits when told to or when the parent goes away. */
export async function runChild(child: ChildServer): Promise<void> {
  if (!process.send) throw new Error('bench servers run as children of bench/run.ts');
  const send = (m: ChildMessage) => process.send!(m);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code), 10_000);
    force.unref();
    try {
      await child.stop();
    } finally {
      process.exit(code);
    }
  };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', user, system, rss: process.memoryUsage().rss });
    } else if (m.type === 'count-start') {
      child.counter?.start();
      send({ type: 'ack' });
    } else if (m.type === 'count-stop') {
      send({ type: 'count', statements: child.counter ? child.counter.stop() : null });
    } else if (m.type === 'stop') {
      void stop(0);
    }
  });
  // A parent that dies (Ctrl-C, crash) must not leave servers holding pool connections.
  process.on('disconnect', () => void stop(0));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0));
  send({ type: 'ready', url: await child.start() });
}

/** Records the statements a server sends between `counter.start()` and `counter.stop()`. */
export function statementRecorder(): { record(statement: string): void; counter: NonNullable<ChildServer['counter']> } {
  let statements: string[] | null = null;
  return {
    record: (statement) => void statements?.push(statement),
    counter: {
      start: () => void (statements = []),
      stop() {
        const out = statements ?? [];
        statements = null;
        return out;
      },
    },
  };
}
