import { GraphQLError, Lexer, Source, TokenKind } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ERROR_CODES } from '../codes.js';
import type { Context } from '../context.js';
import type { UserConnections } from './connections.js';
import { costError } from './cost.js';

/** Deepest nesting of `{`, `[` and `(` a document may have before it is parsed. */
export const MAX_DOCUMENT_NESTING = 64;

function payloadTooLarge(fetchAPI: { Response: typeof Response }, maxBytes: number): Response {
  return fetchAPI.Response.json(
    { errors: [{ message: `Request body too large (limit ${maxBytes} bytes)`, extensions: { code: ERROR_CODES.PAYLOAD_TOO_LARGE } }] },
    { status: 413, headers: { connection: 'close' } },
  );
}

/**
 * Request bodies: a declared length over the limit is refused at once (413); otherwise the
 * body is read here, counting bytes as they arrive, and reading stops at the limit (413), so
 * chunked bodies are bounded too and nothing is parsed or authenticated before its size is
 * known. Compressed bodies (Content-Encoding other than identity) are refused with 415: the
 * limit is on bytes the parser would see.
 */
export function bodyLimitPlugin(maxBytes: number): Plugin {
  return {
    async onRequest({ request, setRequest, endResponse, fetchAPI }) {
      const encoding = request.headers.get('content-encoding');
      if (encoding && !/^\s*identity\s*$/i.test(encoding)) {
        endResponse(
          fetchAPI.Response.json(
            { errors: [{ message: 'Compressed request bodies are not accepted', extensions: { code: ERROR_CODES.UNSUPPORTED_MEDIA_TYPE } }] },
            { status: 415 },
          ),
        );
        return;
      }
      const declared = Number(request.headers.get('content-length') ?? 0);
      if (declared > maxBytes) return endResponse(payloadTooLarge(fetchAPI, maxBytes));
      if (!request.body || request.method === 'GET' || request.method === 'HEAD') return;
      const reader = request.body.getReader();
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch {
          // The client went away mid-body: nothing to answer.
          return endResponse(new fetchAPI.Response(null, { status: 400 }));
        }
        if (next.done) break;
        total += next.value.byteLength;
        if (total > maxBytes) {
          void reader.cancel().catch(() => undefined);
          return endResponse(payloadTooLarge(fetchAPI, maxBytes));
        }
        chunks.push(next.value);
      }
      const body = Buffer.concat(chunks);
      setRequest(new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, body, signal: request.signal }));
    },
  };
}

/**
 * GET (and SSE) requests carry `variables` and `extensions` as JSON in the query string; yoga
 * would fail on a malformed one with an internal error, so it is a 400 here.
 */
export const queryStringPlugin: Plugin = {
  onRequest({ url, endResponse, fetchAPI }) {
    for (const name of ['variables', 'extensions']) {
      const raw = url.searchParams.get(name);
      if (raw === null || raw === '') continue;
      try {
        JSON.parse(raw);
      } catch {
        endResponse(
          fetchAPI.Response.json({ errors: [{ message: `"${name}" in the query string is not valid JSON`, extensions: { code: ERROR_CODES.BAD_REQUEST } }] }, { status: 400 }),
        );
        return;
      }
    }
  },
};

/**
 * Documents nested deeper than MAX_DOCUMENT_NESTING are a syntax error before the recursive
 * parser sees them (2,000 nested `[` in a 2 KB document would overflow its stack: a 500).
 * The lexer is iterative; a document it has accepted is remembered, so hot documents are
 * lexed once.
 */
export function documentNestingPlugin(max = MAX_DOCUMENT_NESTING): Plugin {
  const accepted = new Set<string>();
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (accepted.has(source)) return;
      const lexer = new Lexer(new Source(source));
      let depth = 0;
      for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
        if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
          if (++depth > max) {
            throw new GraphQLError(`Syntax Error: document nested deeper than ${max} levels`, { extensions: { code: ERROR_CODES.GRAPHQL_PARSE_FAILED, http: { status: 400 } } });
          }
        } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.PAREN_R) {
          depth--;
        }
      }
      if (accepted.size >= 1000) accepted.clear();
      accepted.add(source);
    },
  };
}

/**
 * Refuses operations whose list-aware cost (src/limits/cost.ts) exceeds `maxCost`, with the
 * variables of this request, before anything executes: COST_LIMIT_EXCEEDED.
 */
export function costLimitPlugin(maxCost: number): Plugin {
  const refuse = (args: { schema: Parameters<typeof costError>[0]; document: Parameters<typeof costError>[1]; variableValues?: unknown; operationName?: string | null }) =>
    costError(args.schema, args.document, (args.variableValues ?? undefined) as Record<string, unknown> | undefined, args.operationName, maxCost);
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = refuse(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = refuse(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}

/**
 * The response-size bound: when an execution charged more content than the budget allows
 * (see ResponseBudget), the whole result is replaced by one RESPONSE_TOO_LARGE error.
 */
export const responseBudgetPlugin: Plugin = {
  onExecute() {
    return {
      onExecuteDone({ args, result, setResult }) {
        const budget = (args.contextValue as Partial<Context>).budget;
        if (!budget?.exceeded || Symbol.asyncIterator in (result as object)) return;
        setResult({
          data: null,
          errors: [new GraphQLError(`The response would exceed ${budget.limit} bytes of content; ask for smaller pages or fewer fields`, { extensions: { code: ERROR_CODES.RESPONSE_TOO_LARGE, limit: budget.limit } })],
        });
      },
    };
  },
};

/**
 * SSE subscription streams count against the user's live channels (with graphql-ws sockets,
 * which server.ts counts); past the cap a subscription over HTTP is refused with TOO_MANY_CONNECTIONS.
 */
export function sseConnectionsPlugin(connections: UserConnections): Plugin {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as unknown as Context & { connectionParams?: unknown };
      const userId = ctx.viewer?.user.id;
      if (!userId || ctx.connectionParams !== undefined) return;
      if (!connections.acquire(userId)) {
        setResultAndStopExecution({
          errors: [new GraphQLError(`Too many open connections for this user (limit ${connections.limit})`, { extensions: { code: ERROR_CODES.TOO_MANY_CONNECTIONS, limit: connections.limit } })],
        });
        return;
      }
      let released = false;
      const release = () => {
        if (!released) (released = true), connections.release(userId);
      };
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in (result as object))) return release();
          return { onEnd: release };
        },
      };
    },
  };
}
