import { defineProcessor, json, store, string, topic } from '@exactly/core';

export interface PageView {
  readonly page: string;
  readonly visitor: string;
  /** When the page was viewed (ms since the epoch). */
  readonly at: number;
}
export interface PageCount {
  readonly page: string;
  readonly views: number;
  /** Distinct visitors so far. */
  readonly visitors: number;
}

/**
 * Counts views and distinct visitors per page, exactly once: views are keyed by page, so each page's counters
 * live in one partition's stores; each view emits the page's new counts, committed with the counters' changes
 * and the view's offset. After any crash the counts are what the committed views made them: no view counted
 * twice, none lost. A view without a page is a dead letter, and counts nothing.
 */
export function pageViews(suffix = '') {
  return defineProcessor({
    id: `page-views${suffix}`,
    input: topic(`page-views${suffix}`, { key: string(), value: json<PageView>() }),
    stores: {
      views: store({ key: string(), value: json<number>() }),
      // "page/visitor" keys: whether this visitor was seen on this page before.
      seen: store({ key: string(), value: json<true>() }),
    },
    outputs: { counts: topic(`page-counts${suffix}`, { key: string(), value: json<PageCount>() }) },
    handle({ value: view }, { stores }) {
      if (typeof view.page !== 'string' || view.page === '') throw new Error('a view without a page');
      const views = (stores.views.get(view.page) ?? 0) + 1;
      stores.views.put(view.page, views);
      const visit = `${view.page}/${view.visitor}`;
      if (!stores.seen.has(visit)) stores.seen.put(visit, true);
      const visitors = countVisitors(stores.seen.entries(), view.page);
      return { counts: [{ key: view.page, value: { page: view.page, views, visitors } }] };
    },
  });
}

/** Distinct visitors of `page`: a scan of the partition's `seen` store (fine for a demo; keep a counter at scale). */
function countVisitors(seen: IterableIterator<[string, true]>, page: string): number {
  let count = 0;
  for (const [visit] of seen) if (visit.startsWith(`${page}/`)) count += 1;
  return count;
}
