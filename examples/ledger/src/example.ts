import type { ExampleApp } from '@exactly/testkit';
import { transfer } from './generate.js';
import { ledgerWriter } from './processor.js';

export default {
  name: 'ledger',
  summary:
    'each transfer becomes two rows in a PostgreSQL table and a receipt on Kafka, committed together (two-phase commit); invalid ones go to the dead-letter topic',
  processor: (suffix) => ledgerWriter(suffix),
  record: transfer,
} satisfies ExampleApp;
