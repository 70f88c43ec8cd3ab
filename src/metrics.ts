import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Plugin } from 'graphql-yoga';

/**
 * Prometheus metrics of this process (served at /metrics). Counters and histograms are
 * process-wide; gauges read the live state of every started app (connections, subscriptions,
 * pool) at scrape time, so nothing has to keep them in step. The event pipeline and the message
 * part relay call the small record* functions below; docs/operations.md lists every metric.
 */
export const registry = new Registry();

const operationLabels = ['operation', 'type', 'outcome'] as const;

const operations = new Counter({
  name: 'chatgraph_graphql_operations_total',
  help: 'GraphQL operations by operation name, type (query, mutation, subscription) and outcome (success, error, invalid)',
  labelNames: operationLabels,
  registers: [registry],
});

const operationDuration = new Histogram({
  name: 'chatgraph_graphql_operation_duration_seconds',
  help: 'Execution time of queries and mutations (subscriptions: time to the first result or error)',
  labelNames: operationLabels,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const errors = new Counter({
  name: 'chatgraph_graphql_errors_total',
  help: 'GraphQL errors in results, by extensions.code (INTERNAL_SERVER_ERROR = masked unexpected error)',
  labelNames: ['code'] as const,
  registers: [registry],
});

const eventsDelivered = new Counter({
  name: 'chatgraph_events_delivered_total',
  help: 'Watch-stream events handed to subscriptions (one per event per subscription)',
  registers: [registry],
});

const eventLag = new Histogram({
  name: 'chatgraph_event_lag_seconds',
  help: "From the writing transaction's timestamp to delivery to this process's subscribers",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

const messageParts = new Counter({
  name: 'chatgraph_message_parts_relayed_total',
  help: 'Live message-part batches relayed to subscribers (streaming assistant output)',
  registers: [registry],
});

const nextFrames = new Counter({
  name: 'chatgraph_ws_next_frames_total',
  help: 'graphql-ws `next` frames sent (one per event per WebSocket subscription)',
  registers: [registry],
});

const nextFrameBytes = new Counter({
  name: 'chatgraph_ws_next_frame_payload_bytes_total',
  help: 'Payload characters of the graphql-ws `next` frames sent',
  registers: [registry],
});

const payloadSerializations = new Counter({
  name: 'chatgraph_ws_payload_serializations_total',
  help: 'Event results serialised for graphql-ws (once per result, shared by the identical subscriptions that receive it)',
  registers: [registry],
});

/** What one started app contributes to the gauges (read at scrape time). */
export interface MetricsSource {
  webSocketConnections(): number;
  subscriptions(): number;
  /** Successful LISTEN connects so far (1 after start, +1 per reconnect). */
  listenConnects(): number;
  pool(): { total: number; idle: number; waiting: number };
}

const sources = new Set<MetricsSource>();
/** Reconnects already counted, per source; a stopped app's total stays in the counter. */
const reconnectsSeen = new WeakMap<MetricsSource, number>();

function sum(read: (s: MetricsSource) => number): number {
  let total = 0;
  for (const source of sources) total += read(source);
  return total;
}

new Gauge({
  name: 'chatgraph_websocket_connections',
  help: 'Open graphql-ws connections',
  registers: [registry],
  collect() {
    this.set(sum((s) => s.webSocketConnections()));
  },
});

new Gauge({
  name: 'chatgraph_subscriptions_active',
  help: 'Live subscription operations of clients (graphql-ws and SSE)',
  registers: [registry],
  collect() {
    this.set(sum((s) => s.subscriptions()));
  },
});

new Gauge({
  name: 'chatgraph_db_pool_connections',
  help: 'Query pool connections by state (total, idle) and queued requests (waiting); the LISTEN connection is not in the pool',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    this.set({ state: 'total' }, sum((s) => s.pool().total));
    this.set({ state: 'idle' }, sum((s) => s.pool().idle));
    this.set({ state: 'waiting' }, sum((s) => s.pool().waiting));
  },
});

new Counter({
  name: 'chatgraph_listen_reconnects_total',
  help: 'Times the LISTEN connection was re-established after a loss',
  registers: [registry],
  collect() {
    for (const source of sources) {
      const reconnects = Math.max(0, source.listenConnects() - 1);
      const seen = reconnectsSeen.get(source) ?? 0;
      if (reconnects > seen) this.inc(reconnects - seen);
      reconnectsSeen.set(source, reconnects);
    }
  },
});

let runtimeMetrics = false;

/** Adds a started app to the gauges (and Node runtime metrics, once per process); returns its remover. */
export function registerMetricsSource(source: MetricsSource): () => void {
  if (!runtimeMetrics) {
    runtimeMetrics = true;
    collectDefaultMetrics({ register: registry });
  }
  sources.add(source);
  return () => {
    // Count reconnects that happened since the last scrape before the source goes.
    const reconnects = Math.max(0, source.listenConnects() - 1) - (reconnectsSeen.get(source) ?? 0);
    sources.delete(source);
    if (reconnects > 0) (registry.getSingleMetric('chatgraph_listen_reconnects_total') as Counter).inc(reconnects);
  };
}

/** Operation names become labels only when they look like names, and at most this many distinct ones. */
const MAX_OPERATION_NAMES = 200;
const seenNames = new Set<string>();

/** A bounded label for a client-chosen operation name (unbounded label values would exhaust memory). */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return 'other';
  if (!seenNames.has(name)) {
    if (seenNames.size >= MAX_OPERATION_NAMES) return 'other';
    seenNames.add(name);
  }
  return name;
}

/** One finished operation (or a subscription that started or failed). */
export function recordOperation(labels: { operation: string; type: string; outcome: string }, seconds: number | null, codes: readonly string[]): void {
  operations.inc(labels);
  if (seconds !== null) operationDuration.observe(labels, seconds);
  for (const code of codes) errors.inc({ code });
}

/** Errors outside an operation result (a closed stream, a rejected subscribe). */
export function recordErrors(codes: readonly string[]): void {
  for (const code of codes) errors.inc({ code });
}

/** Hook for the event hub: `events` were delivered, `deliveries` times in all (events × subscriptions). */
export function recordEventsDelivered(events: ReadonlyArray<{ occurred_at: Date }>, deliveries: number): void {
  if (deliveries === 0) return;
  eventsDelivered.inc(deliveries);
  const now = Date.now();
  for (const event of events) {
    if (event.occurred_at instanceof Date) eventLag.observe(Math.max(0, now - event.occurred_at.getTime()) / 1000);
  }
}

/** Hook for the message-part relay: `batches` part batches were relayed to subscribers. */
export function recordMessagePartsRelayed(batches = 1): void {
  messageParts.inc(batches);
}

/** Hook for the WebSocket frames: a `next` frame with a payload of `chars` characters was sent. */
export function recordNextFrame(chars: number): void {
  nextFrames.inc();
  nextFrameBytes.inc(chars);
}

/** Hook for the WebSocket frames: one event result was serialised. */
export function recordPayloadSerialized(): void {
  payloadSerializations.inc();
}

/** Serves the registry at /metrics (Prometheus text format). */
export function metricsPlugin(path = '/metrics'): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== path || request.method !== 'GET') return;
      endResponse(new fetchAPI.Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }));
    },
  };
}
