import type { ExampleApp } from '@exactly/testkit';
import { accountEvent } from './generate.js';
import { notifications } from './processor.js';

export default {
  name: 'notifications',
  summary: 'each account event fans out to email, SMS and push topics, each exactly once',
  processor: (suffix) => notifications(suffix),
  record: accountEvent,
} satisfies ExampleApp;
