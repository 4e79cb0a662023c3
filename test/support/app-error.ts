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
