import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PothosValidationError } from '@pothos/core';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { operationLabel, recordErrors, recordOperation } from './metrics.js';
import { DomainError } from './resolvers/errors.js';

/** A client's `x-request-id` is kept when it is a plain token; otherwise (or when absent) one is generated. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of an HTTP request: the client's `x-request-id` when usable, else a new UUID. */
export function requestIdFor(header: string | null | undefined): string {
  return header && REQUEST_ID_RE.test(header) ? header : randomUUID();
}

/** The `extensions.code` a client sees for this error (the same classes maskError keeps). */
export function errorCode(error: unknown): string {
  if (!(error instanceof GraphQLError)) return 'INTERNAL_SERVER_ERROR';
  const code = error.extensions?.code;
  if (typeof code === 'string') return code;
  const original = error.originalError;
  if (original instanceof DomainError) return original.code;
  if (original instanceof PothosValidationError) return 'BAD_USER_INPUT';
  if (original && !(original instanceof GraphQLError)) return 'INTERNAL_SERVER_ERROR';
  return 'BAD_USER_INPUT'; // graphql-js request errors: bad variables, bad arguments
}

function describe(document: DocumentNode, operationName: string | null | undefined) {
  const op = getOperationAST(document, operationName);
  const name = op?.name?.value ?? operationName ?? null;
  return { name: name ? name.slice(0, 100) : null, type: op?.operation ?? 'unknown' };
}

interface OperationContext {
  request?: Request;
  /** The Node request (HTTP through node:http). */
  req?: object;
}

/**
 * One JSON log line and one metrics sample per GraphQL operation, on both transports: operation
 * name and type, outcome, duration, error codes and the request id (HTTP: `x-request-id` in and
 * out). Never variables, results, headers or tokens: those carry message content and secrets.
 */
export function operationLogPlugin(log: Logger): Plugin<OperationContext> {
  // Keyed by the Node request when there is one: a plugin may replace the fetch Request
  // (the body limit re-creates it after reading the body), the Node request stays.
  const requestIds = new WeakMap<object, string>();
  const keyOf = (holder: { req?: object; request?: Request }) => holder.req ?? holder.request;
  const idOf = (context: OperationContext) => {
    const key = keyOf(context);
    return (key && requestIds.get(key)) ?? randomUUID();
  };

  const finish = (
    context: OperationContext,
    op: { name: string | null; type: string },
    transport: string,
    started: number,
    result: ExecutionResult | null,
    failure?: unknown,
  ) => {
    const codes = failure !== undefined ? [errorCode(failure)] : (result?.errors ?? []).map(errorCode);
    const outcome = codes.length > 0 ? 'error' : op.type === 'subscription' ? 'started' : 'success';
    const seconds = (performance.now() - started) / 1000;
    recordOperation({ operation: operationLabel(op.name), type: op.type, outcome }, seconds, codes);
    log.info(
      { requestId: idOf(context), operation: op.name, type: op.type, transport, outcome, durationMs: Math.round(seconds * 10_000) / 10, errors: codes.length ? codes : undefined },
      'graphql operation',
    );
  };

  return {
    onRequest({ request, serverContext }) {
      requestIds.set(keyOf({ req: (serverContext as { req?: object } | undefined)?.req, request })!, requestIdFor(request.headers.get('x-request-id')));
    },
    onResponse({ request, response, serverContext }) {
      const id = requestIds.get(keyOf({ req: (serverContext as { req?: object } | undefined)?.req, request })!);
      if (id) response.headers.set('x-request-id', id);
    },
    onParse({ context }) {
      return ({ result }) => {
        if (result instanceof Error) finish(context, { name: null, type: 'unknown' }, transportOf(context), performance.now(), { errors: [new GraphQLError(result.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] });
      };
    },
    onValidate({ context, params }) {
      const started = performance.now();
      return ({ valid, result }) => {
        if (valid) return;
        const op = describe(params.documentAST, (context as { params?: { operationName?: string } }).params?.operationName);
        const codes = result.map(() => 'GRAPHQL_VALIDATION_FAILED');
        recordOperation({ operation: operationLabel(op.name), type: op.type, outcome: 'invalid' }, (performance.now() - started) / 1000, codes);
        log.info({ requestId: idOf(context), operation: op.name, type: op.type, transport: transportOf(context), outcome: 'invalid', errors: codes }, 'graphql operation');
      };
    },
    onExecute({ args }) {
      const started = performance.now();
      const op = describe(args.document, args.operationName);
      const context = args.contextValue as OperationContext;
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result)) return; // incremental delivery is not used here
          finish(context, op, transportOf(context), started, result);
        },
      };
    },
    onSubscribe({ args }) {
      const started = performance.now();
      const op = describe(args.document, args.operationName);
      const context = args.contextValue as OperationContext;
      return {
        onSubscribeResult({ result }) {
          finish(context, op, transportOf(context), started, isAsyncIterable(result) ? null : result);
          if (!isAsyncIterable(result)) return;
          return {
            onNext({ result: next }) {
              // Errors on a live stream (overflow, expired cursor, unavailable): counted by code.
              if (next.errors?.length) recordErrors(next.errors.map(errorCode));
            },
          };
        },
        onSubscribeError({ error }) {
          finish(context, op, transportOf(context), started, null, error);
        },
      };
    },
  };
}

/** HTTP requests carry `request` in their context; graphql-ws operations carry the socket. */
function transportOf(context: unknown): 'http' | 'ws' {
  return (context as { socket?: unknown }).socket ? 'ws' : 'http';
}
