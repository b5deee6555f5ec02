import type { ExampleApp } from '@exactly/testkit';
import { order } from './generate.js';
import { orderRouter } from './processor.js';

export default {
  name: 'order-router',
  summary: 'each order fans out to shipments, invoices and audit, in one transaction',
  processor: (suffix) => orderRouter(suffix),
  record: order,
} satisfies ExampleApp;
