import { useOpenTelemetry } from '@envelop/opentelemetry';
import { trace } from '@opentelemetry/api';
import type { Plugin } from 'graphql-yoga';

/**
 * OpenTelemetry spans for parse, validate and execute of every operation (off by default).
 * `global` hands them to whatever SDK the process registered (e.g. `node --import ./otel.mjs
 * dist/index.js start` with an OTLP exporter; see docs/operations.md); `console` prints them
 * (development). Variables, results and resolver arguments are never recorded: they carry
 * message content.
 */
export function tracingPlugin(mode: 'global' | 'console'): Plugin {
  const options = { resolvers: false, variables: false, result: false, document: true };
  return useOpenTelemetry(options, mode === 'global' ? trace.getTracerProvider() : undefined, undefined, undefined, 'chatgraph') as Plugin;
}
