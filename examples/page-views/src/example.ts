import type { ExampleApp } from '@exactly/testkit';
import { pageView } from './generate.js';
import { pageViews } from './processor.js';

export default {
  name: 'page-views',
  summary: 'counts views and visitors per page in stores; each view emits the new counts, once',
  processor: (suffix) => pageViews(suffix),
  record: pageView,
} satisfies ExampleApp;
