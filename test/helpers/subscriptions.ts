import { expect } from 'vitest';
import type { Client, FormattedExecutionResult } from 'graphql-ws';
import type { App } from '../../src/server.js';

/** A running subscription's results as they arrive. */
export interface Collected<T> {
  results: Array<FormattedExecutionResult<T, unknown>>;
  /** `data` of every result that had data. */
  data: T[];
  /** Transport-level error (the socket closed, or an error message for the operation). */
  error: unknown;
  completed: boolean;
  unsubscribe(): void;
}

/** Subscribes and records everything the server sends for the operation. */
export function collect<T>(client: Client, query: string, variables?: Record<string, unknown>): Collected<T> {
  const collected: Collected<T> = { results: [], data: [], error: undefined, completed: false, unsubscribe: () => undefined };
  collected.unsubscribe = client.subscribe<T>({ query, variables }, {
    next: (result) => {
      collected.results.push(result);
      if (result.data) collected.data.push(result.data);
    },
    error: (err) => {
      collected.error = err;
    },
    complete: () => {
      collected.completed = true;
    },
  });
  return collected;
}

/** Subscribes and waits until the server has registered it with the hub (so no write can precede it). */
export async function subscribed<T>(app: App, client: Client, query: string, variables?: Record<string, unknown>): Promise<Collected<T>> {
  const before = app.liveSubscriptions;
  const sub = collect<T>(client, query, variables);
  await expect.poll(() => app.liveSubscriptions > before || sub.completed || sub.error !== undefined, { timeout: 10_000 }).toBe(true);
  return sub;
}

/** Waits until `n` results have arrived (fails the test after the timeout). */
export async function received<T>(sub: Collected<T>, n: number, timeout = 10_000): Promise<T[]> {
  await expect.poll(() => sub.results.length, { timeout }).toBeGreaterThanOrEqual(n);
  return sub.data;
}

/** Waits for the operation to complete and returns its results. */
export async function finished<T>(sub: Collected<T>, timeout = 10_000): Promise<Array<FormattedExecutionResult<T, unknown>>> {
  await expect.poll(() => sub.completed || sub.error !== undefined, { timeout }).toBe(true);
  return sub.results;
}

/** Unsubscribes and waits until the hub has let go of every one of them (keeps later counts exact). */
export async function end(app: App, ...subs: Array<Collected<unknown>>): Promise<void> {
  const before = app.liveSubscriptions;
  const live = subs.filter((s) => !s.completed && s.error === undefined).length;
  for (const sub of subs) sub.unsubscribe();
  await expect.poll(() => app.liveSubscriptions, { timeout: 10_000 }).toBe(before - live);
}
