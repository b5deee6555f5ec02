import { TestDriver } from '@exactly/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { pageViews } from '../src/processor.js';

describe('page-views (TestDriver, no broker)', () => {
  const driver = new TestDriver(pageViews());
  beforeEach(() => driver.reset());
  const view = (page: string, visitor: string) => driver.send(page, { page, visitor, at: 0 });

  it("each view emits its page's new counts: views, and distinct visitors", async () => {
    await view('/docs', 'ann');
    await view('/docs', 'bob');
    await view('/docs', 'ann');
    await view('/blog', 'ann');
    expect(driver.output('counts').map((r) => [r.key, r.value.views, r.value.visitors])).toEqual([
      ['/docs', 1, 1],
      ['/docs', 2, 2],
      ['/docs', 3, 2],
      ['/blog', 1, 1],
    ]);
    expect((await driver.store('views')).get('/docs')).toBe(3);
  });

  it('a view without a page is a dead letter and counts nothing', async () => {
    await view('/docs', 'ann');
    await view('', 'bob');
    expect(driver.deadLetters().map((d) => d.reason)).toEqual(['handler threw: a view without a page']);
    expect([...(await driver.store('views')).entries()]).toEqual([['/docs', 1]]);
  });
});
