import type { ExampleApp } from '@exactly/testkit';
import { transferRequest } from './generate.js';
import { bankTransfer } from './processor.js';

export default {
  name: 'bank-transfer',
  summary:
    'each transfer becomes a debit, a credit and new balances in one transaction; overdrafts and invalid ones go to the dead-letter topic',
  processor: (suffix) => bankTransfer(suffix),
  record: transferRequest,
} satisfies ExampleApp;
