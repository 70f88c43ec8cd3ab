import { defineConfig } from 'vitest/config';

// The unit tests of this package (no server). The browser e2e and the watcher test need a
// gateway and Postgres: the root `npm test` runs them (see ../vitest.config.ts).
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], exclude: ['test/**/*.e2e.test.ts', 'test/**/*.gateway.test.ts', 'test/watch.test.ts'] },
});
