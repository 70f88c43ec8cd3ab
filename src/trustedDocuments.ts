import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Trusted documents (off by default; TRUSTED_DOCUMENTS=<manifest.json>): the server runs only
 * operations listed in a manifest `{ "<sha256 of the document>": "<document>" }`, as written by
 * `npm run trusted-documents` (scripts/trusted-documents.ts) or GraphQL Codegen's persisted
 * documents. Clients send the hash, never the text: `documentId` (GraphQL over HTTP) or
 * `extensions.persistedQuery.sha256Hash` (APQ shape), on HTTP and graphql-ws alike. Anything
 * else is refused with PERSISTED_QUERY_ONLY / PERSISTED_QUERY_NOT_FOUND. See docs/operations.md.
 */
export class TrustedDocuments {
  private constructor(private readonly documents: ReadonlyMap<string, string>) {}

  /** Loads and checks a manifest; a bad file stops the process with one line. */
  static load(path: string): TrustedDocuments {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`TRUSTED_DOCUMENTS: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`TRUSTED_DOCUMENTS: ${path} must be a JSON object of hash → document`);
    const entries = Object.entries(parsed as Record<string, unknown>);
    for (const [hash, text] of entries) {
      if (!/^[0-9a-f]{64}$/.test(hash) || typeof text !== 'string') throw new Error(`TRUSTED_DOCUMENTS: ${path}: entry "${hash.slice(0, 80)}" is not a sha256 hex hash with a document string`);
    }
    return new TrustedDocuments(new Map(entries as Array<[string, string]>));
  }

  get size(): number {
    return this.documents.size;
  }

  /** The document id a request names, from either accepted place. */
  static idOf(params: { documentId?: unknown; extensions?: unknown }): string | null {
    if (typeof params.documentId === 'string') return params.documentId;
    const persisted = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
    return typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : null;
  }

  get(id: string): string | null {
    return this.documents.get(id) ?? null;
  }

  /** For graphql-ws: the trusted text of a subscribe payload, or the error to answer with. */
  resolve(payload: { query?: unknown; documentId?: unknown; extensions?: unknown }): { query: string } | { error: GraphQLError } {
    const id = TrustedDocuments.idOf(payload);
    if (id === null) return { error: onlyError() };
    const query = this.get(id);
    return query === null ? { error: notFoundError() } : { query };
  }

  /** The yoga plugin for HTTP (and SSE): hashes only, unknown hashes refused. */
  plugin(): Plugin {
    return usePersistedOperations({
      allowArbitraryOperations: false,
      extractPersistedOperationId: (params) => TrustedDocuments.idOf(params as { documentId?: unknown; extensions?: unknown }),
      getPersistedOperation: (id) => this.get(id),
      customErrors: {
        persistedQueryOnly: () => onlyError(),
        keyNotFound: () => onlyError(),
        notFound: () => notFoundError(),
      },
    }) as Plugin;
  }
}

function onlyError(): GraphQLError {
  return new GraphQLError('This server runs trusted documents only: send the document hash as documentId (or extensions.persistedQuery.sha256Hash), not query text', {
    extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
  });
}

function notFoundError(): GraphQLError {
  return new GraphQLError('Unknown document id: it is not in this server\'s trusted documents manifest', {
    extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } },
  });
}
