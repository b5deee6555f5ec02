import type { PageView } from './processor.js';

const PAGES = ['/', '/pricing', '/docs', '/docs/state', '/blog', '/about', '/careers', '/contact'];

/** The i-th page view: popular pages more often; 40 visitors; one in 100 without a page (a dead letter). */
export function pageView(i: number): { key: string; value: PageView } {
  const page = i % 100 === 42 ? '' : (PAGES[(i * i + i) % PAGES.length] as string);
  return { key: page, value: { page, visitor: `visitor-${(i * 13) % 40}`, at: 1_767_225_600_000 + i * 1000 } };
}
