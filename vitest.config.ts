import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

/**
 * Tests that need no broker: core, the read_committed rule, the engine's recovery paths on the fake client
 * adapter, the error tables, the TestDriver and the examples' processor tests. `pnpm test:unit` runs just these
 * (with KAFKA_BROKERS pointing nowhere); `pnpm test` runs them and the rest, against a real broker.
 */
const UNIT_TESTS = [
  'packages/core/test/**/*.test.ts',
  'packages/read-committed/test/**/*.test.ts',
  'packages/runtime/test/recovery.test.ts',
  'packages/runtime/test/state-recovery.test.ts',
  'packages/runtime/test/tables-recovery.test.ts',
  'packages/runtime/test/error-table.test.ts',
  'packages/runtime/test/platformatic-errors.test.ts',
  'packages/runtime/test/platformatic-consumer.test.ts',
  'packages/runtime/test/client-boundary.test.ts',
  'packages/runtime/test/sent-ends.test.ts',
  'packages/runtime/test/dedup-window.test.ts',
  'packages/runtime/test/queue-recovery.test.ts',
  'packages/runtime/test/workers-policy.test.ts',
  'packages/runtime/test/busy-retry.test.ts',
  'packages/runtime/test/murmur2.test.ts',
  'packages/runtime/test/produce-request.test.ts',
  'packages/cli/test/startup.test.ts',
  'packages/cli/test/client-properties.test.ts',
  'packages/testkit/test/driver.test.ts',
  'packages/postgres/test/table.test.ts',
  'packages/testkit/test/avro.test.ts',
  'packages/testkit/test/example-processor.test.ts',
  'packages/testkit/test/schema-registry.test.ts',
  'examples/*/test/processor.test.ts',
];

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
      '@exactly/postgres/runtime': fileURLToPath(new URL('./packages/postgres/src/runtime.ts', import.meta.url)),
      '@exactly/postgres': source('postgres'),
      '@exactly/rabbitmq/runtime': fileURLToPath(new URL('./packages/rabbitmq/src/runtime.ts', import.meta.url)),
      '@exactly/rabbitmq': source('rabbitmq'),
    },
  },
  test: {
    setupFiles: ['./packages/testkit/test/setup-file.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report is what .ci/run reads for its summary line.
    reporters: ['default', 'json'],
    outputFile: { json: '.exactly/test-report.json' },
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT_TESTS } },
      {
        extends: true,
        test: {
          name: 'broker',
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
          exclude: UNIT_TESTS,
          // One real broker for the whole run, shared by every test file that needs one.
          globalSetup: ['./packages/testkit/test/global-setup.ts'],
        },
      },
    ],
  },
});
