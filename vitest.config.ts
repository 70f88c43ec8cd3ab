import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Node resolves `graphql` to its CommonJS build for the dependencies; make our own source use
  // the same instance (Vite would pick the .mjs one: "Cannot use GraphQLScalarType from another realm").
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    // client-example/test: the dashboard's unit tests, its browser e2e and the watcher test
    // (their dependencies come from client-example/node_modules: see scripts/client-example-deps.mjs).
    include: ['test/**/*.test.ts', 'client-example/test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    pool: 'forks',
    // Each file gets its own database from a migrated template, so files run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
    // Servers in tests log one line per operation at info; keep the test output to warnings.
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
