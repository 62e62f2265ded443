import { defineConfig } from 'vitest/config';

// Tests share one real PostgreSQL server and a 2-core machine: run files with limited
// parallelism and give database-heavy tests room, since each file creates its own database.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles dist/ once for the tests that spawn `tasker` processes.
    globalSetup: ['test/setup/build-cli.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
