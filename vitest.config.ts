import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a change is tested without a rebuild.
    alias: {
      '@exactly/core': source('core'),
      '@exactly/read-committed/aborted-transactions': fileURLToPath(
        new URL('./packages/read-committed/src/aborted-transactions.ts', import.meta.url),
      ),
      '@exactly/read-committed': source('read-committed'),
      '@exactly/runtime': source('runtime'),
      '@exactly/testkit': source('testkit'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    globalSetup: ['./packages/testkit/test/global-setup.ts'],
    setupFiles: ['./packages/testkit/test/setup-file.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report is what .ci/run reads for its summary line.
    reporters: ['default', 'json'],
    outputFile: { json: '.exactly/test-report.json' },
  },
});
