/** The AppError a synchronous call throws (any other error is rethrown; no throw fails). */
import { isAppError, type AppError } from '../../src/errors.js';

export function appErrorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (isAppError(e)) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

/** The code of the AppError a synchronous call throws; undefined when it does not throw. */
export function appErrorCodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isAppError(e) ? e.code : `not an AppError: ${String(e)}`;
  }
  return undefined;
}
