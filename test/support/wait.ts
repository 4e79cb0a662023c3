/** Waiting helpers shared by the tests (one copy, test/support/). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` every `pollMs` until it holds; throws (naming `what`) when `ms` pass first, so a
 * condition that never comes fails the test at the wait, not at a later assertion.
 */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition', pollMs = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(pollMs);
  }
}
