/**
 * tap reporter: passes the TAP stream through unchanged and ends it with one line
 *
 *   N passed, N failed, N skipped
 *
 * counted with tap-parser from the test files' own asserts (todo counts as skipped).
 * Use: `tap --reporter=./test/support/summary-reporter.mjs` (tap loads a module whose default
 * export is a stream class, pipes TAP into it and pipes it on to stdout). Keep this file
 * non-executable: tap would otherwise run it as a program instead of importing it.
 *
 * Counting follows tap's own totals: every leaf assert counts once; a subtest point counts
 * itself only when its subtest held no asserts (a file that crashed before its first assert,
 * a skipped or todo subtest), or when it failed although nothing inside it failed (a file
 * that exited non-zero, a timeout), so the line never says "0 failed" for a failed run.
 * tap's closing comment `# { total, pass, fail, todo, skip }` is compared with our counts and
 * a mismatch is reported on stderr.
 *
 * With TAP_SUMMARY_FILE set, the line goes to that file instead of stdout, so a CI script can
 * print it last, after anything npm or tap may still write.
 */
import { writeFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { Parser } from 'tap-parser';

/** Counts asserts in a TAP stream; `counts` is filled as the stream is parsed. */
export function createCounter() {
  const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
  /** @type {Record<string, number> | null} */
  let tapTotals = null;
  const parser = new Parser();

  /** @param {Parser} p @param {{ asserts: number, fails: number, parent: any } | null} parent */
  const track = (p, parent) => {
    const scope = { asserts: 0, fails: 0, parent };
    /** @type {{ asserts: number, fails: number } | null} */
    let pendingChild = null;
    const bump = (kind) => {
      counts[kind]++;
      for (let s = scope; s; s = s.parent) {
        s.asserts++;
        if (kind === 'fail') s.fails++;
      }
    };
    p.on('child', (child) => {
      pendingChild = track(child, scope);
    });
    p.on('assert', (res) => {
      const child = pendingChild;
      pendingChild = null;
      if (child && child.asserts > 0) {
        if (!res.ok && !res.todo && !res.skip && child.fails === 0) bump('fail');
        return;
      }
      if (res.todo) bump('todo');
      else if (res.skip) bump('skip');
      else bump(res.ok ? 'pass' : 'fail');
    });
    return scope;
  };
  track(parser, null);

  parser.on('comment', (line) => {
    const m = /^# \{ (total: \d+.*) \}\s*$/.exec(line);
    if (!m) return;
    tapTotals = Object.fromEntries(m[1].split(', ').map((kv) => kv.split(': ')).map(([k, v]) => [k, Number(v)]));
  });

  return {
    parser,
    counts,
    tapTotals: () => tapTotals,
    line: () => `${counts.pass} passed, ${counts.fail} failed, ${counts.skip + counts.todo} skipped`,
  };
}

export default class SummaryReporter extends Transform {
  constructor() {
    super();
    this.counter = createCounter();
  }

  _transform(chunk, _encoding, callback) {
    this.counter.parser.write(chunk);
    callback(null, chunk);
  }

  _flush(callback) {
    const { parser, counts, tapTotals, line } = this.counter;
    parser.end();
    const tap = tapTotals();
    if (tap) {
      const ours = { pass: counts.pass, fail: counts.fail, skipped: counts.skip + counts.todo };
      const theirs = { pass: tap.pass ?? 0, fail: tap.fail ?? 0, skipped: (tap.skip ?? 0) + (tap.todo ?? 0) };
      if (ours.pass !== theirs.pass || ours.fail !== theirs.fail || ours.skipped !== theirs.skipped) {
        process.stderr.write(`summary-reporter: counts differ from tap's totals ${JSON.stringify(tap)}\n`);
      }
    }
    const summary = `${line()}\n`;
    const file = process.env.TAP_SUMMARY_FILE;
    if (file) {
      writeFileSync(file, summary);
      callback();
    } else {
      callback(null, summary);
    }
  }
}
