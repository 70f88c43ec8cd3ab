import {
  getOperationAST,
  getVariableValues,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLError,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import { logger } from './logger.js';

type Compiled = CompiledQuery<unknown, Record<string, unknown>>;

interface Entry {
  query: Compiled | null;
  /** Field nodes by `line:column`, to give jit's errors the AST nodes graphql-js errors carry. */
  fields: Map<string, FieldNode>;
}

/** Field nodes of `document` by the position where each starts. */
function fieldsByPosition(document: DocumentNode): Map<string, FieldNode> {
  const out = new Map<string, FieldNode>();
  visit(document, {
    Field(node) {
      if (node.loc) out.set(`${node.loc.startToken.line}:${node.loc.startToken.column}`, node);
    },
  });
  return out;
}

/**
 * jit's field errors carry `locations` but no `nodes`; error masking and yoga's serializer
 * rebuild errors from `nodes`, so without them the locations would be dropped.
 */
function withNodes(result: ExecutionResult, fields: Map<string, FieldNode>): ExecutionResult {
  for (const error of result.errors ?? []) {
    if (error.nodes || !error.locations?.length) continue;
    const nodes = error.locations.map((l) => fields.get(`${l.line}:${l.column}`)).filter((n): n is FieldNode => n !== undefined);
    if (nodes.length === error.locations.length) Object.defineProperty(error as GraphQLError, 'nodes', { value: nodes, enumerable: false });
  }
  return result;
}

/**
 * Runs queries and mutations through graphql-jit (`GRAPHQL_JIT`) while keeping the standard
 * executor's answers, which test/executors.test.ts checks operation by operation:
 * - variables are checked first and an operation with a bad variable is handed to the standard
 *   executor, so it gets the standard error (wording, location, 400 status), not jit's;
 * - a document jit cannot compile (it inlines literal arguments as JSON, so an inline BigInt
 *   literal such as `contextLimit: 200000` throws) runs on the standard executor instead of failing;
 * - field errors keep their locations;
 * - subscriptions always run on the standard executor.
 * Each document is compiled once; yoga's parser cache hands back the same DocumentNode for the
 * same source, so the compiled form is kept per DocumentNode (and dies with it).
 */
export function useCompiledExecution(): Plugin {
  const compiled = new WeakMap<DocumentNode, Map<string, Entry>>();

  function compile(args: ExecutionArgs): Entry {
    let byName = compiled.get(args.document);
    if (!byName) compiled.set(args.document, (byName = new Map()));
    const name = args.operationName ?? '';
    let entry = byName.get(name);
    if (entry) return entry;
    let query: Compiled | null = null;
    try {
      const out = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      if (isCompiledQuery(out)) query = out as Compiled;
    } catch (err) {
      logger.debug({ err: String(err) }, 'graphql-jit cannot compile this document; the standard executor runs it');
    }
    entry = { query, fields: query ? fieldsByPosition(args.document) : new Map() };
    byName.set(name, entry);
    return entry;
  }

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation || operation.operation === 'subscription') return;
      const { query, fields } = compile(args);
      if (!query) return;
      setExecuteFn((execArgs: ExecutionArgs) => {
        const coerced = getVariableValues(execArgs.schema, operation.variableDefinitions ?? [], execArgs.variableValues ?? {});
        if (coerced.errors) return executeFn(execArgs); // the standard executor's answer, 400 included
        const out = query.query(execArgs.rootValue, execArgs.contextValue, execArgs.variableValues ?? {}) as ExecutionResult | Promise<ExecutionResult>;
        return out instanceof Promise ? out.then((r) => withNodes(r, fields)) : withNodes(out, fields);
      });
    },
  };
}
