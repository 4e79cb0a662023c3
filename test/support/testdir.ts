/** Test folders for tests that run a daemon in them. */
import type { Test } from 'tap';

/**
 * `t.testdir()` for a test that starts a daemon in it. tap removes a testdir *before* running
 * the teardowns registered after the testdir was made (@tapjs/fixture wraps the test's end
 * first, @tapjs/after later, outside it), so a daemon stopped in such a teardown was still
 * writing frames while its folder was removed — ENOTEMPTY, the stop never ran, and the test
 * file hung until tap killed it (seen in a full run on a loaded machine). Registering a
 * teardown first puts the removal after every teardown.
 */
export function daemonTestdir(t: Test, content: Parameters<Test['testdir']>[0] = {}): string {
  t.teardown(() => undefined);
  return t.testdir(content);
}
