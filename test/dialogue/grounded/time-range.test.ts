/**
 * Time ranges named in questions, in local time. The zone is set for this process (tap runs
 * each file in its own): Berlin, UTC+1 in mid-March, so local midnight is not UTC midnight.
 */
process.env.TZ = 'Europe/Berlin';
import t from 'tap';
import { parseTimeRange } from '../../../src/dialogue/grounded/time-range.js';

// Friday 2025-03-14 10:32:00 in Berlin = 09:32 UTC.
const NOW = Date.UTC(2025, 2, 14, 9, 32, 0);
const H = 3_600_000;
const utc = (d: number, h: number, m = 0) => Date.UTC(2025, 2, d, h, m);
const range = (q: string) => {
  const p = parseTimeRange(q, NOW);
  return p ? [p.range.from, p.range.to, p.range.kind] : undefined;
};

t.test('calendar ranges start at local midnight', async (t) => {
  t.same(range('how many failed today?'), [utc(13, 23), NOW, 'today'], 'today: since 00:00 Berlin = 23:00 UTC the day before');
  t.same(range('yield so far today'), [utc(13, 23), NOW, 'today']);
  t.same(range('and yesterday?'), [utc(12, 23), utc(13, 23), 'yesterday'], 'yesterday: a whole local day, ending at midnight');
  t.same(range('fails since yesterday'), [utc(12, 23), NOW, 'since-yesterday']);
  t.same(range('yield this week'), [utc(9, 23), NOW, 'this-week'], 'this week: from Monday 10 March 00:00');
  t.same(range('this month'), [Date.UTC(2025, 1, 28, 23), NOW, 'this-month']);
});

t.test('rolling ranges end now', async (t) => {
  t.same(range('in the last hour'), [NOW - H, NOW, 'last']);
  t.same(range('past hour'), [NOW - H, NOW, 'last']);
  t.same(range('last 24 hours'), [NOW - 24 * H, NOW, 'last']);
  t.same(range('last 24h'), [NOW - 24 * H, NOW, 'last'], 'number and unit in one word');
  t.same(range('over the past two hours'), [NOW - 2 * H, NOW, 'last'], 'a number word');
  t.same(range('last 90 minutes'), [NOW - 90 * 60_000, NOW, 'last']);
  t.same(range('last 3 days'), [NOW - 72 * H, NOW, 'last']);
  t.same(range('last week'), [NOW - 168 * H, NOW, 'last'], 'last week: the last seven days');
});

t.test('since a clock time: its latest occurrence not after now', async (t) => {
  t.same(range('since 06:00'), [utc(14, 5), NOW, 'since']);
  t.same(range('since 6am'), [utc(14, 5), NOW, 'since']);
  t.same(range('since 6 am'), [utc(14, 5), NOW, 'since']);
  t.same(range('since 2 pm'), [utc(13, 13), NOW, 'since'], '14:00 has not come yet today: yesterday 14:00');
  t.same(range('since noon'), [utc(13, 11), NOW, 'since']);
  t.same(range('since 10:32'), [NOW, NOW, 'since'], 'exactly now: an empty range');
  t.same(range('since midnight'), [utc(13, 23), NOW, 'today']);
  t.equal(range('since 25:00'), undefined, 'not a clock time');
  t.equal(range('since 13pm'), undefined);
});

t.test('typos, case, no range, and the rest of the question', async (t) => {
  t.same(range('How many failed YESTERDY?'), [utc(12, 23), utc(13, 23), 'yesterday']);
  t.same(range('yield todya'), [utc(13, 23), NOW, 'today']);
  t.same(range('last 2 hrs'), [NOW - 2 * H, NOW, 'last']);
  for (const q of ['why did it fail?', 'last', 'since when?', 'have we seen this in the past', 'the last one']) t.equal(range(q), undefined, q);
  t.equal(parseTimeRange('how many failed in the past hour?', NOW)?.rest, 'how many failed in the', 'the range words are taken out');
  t.equal(parseTimeRange('yield so far today on cam2', NOW)?.rest, 'yield on cam2');
});
