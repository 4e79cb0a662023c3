/**
 * The one table from error code to HTTP status (fastify's error catalogue, DESIGN.md): every
 * route answers a failure as `{ error: { code, message } }` with the status its code implies,
 * so the page, curl and scripts branch on the code, never on the text.
 */
import { ErrorCodes, isAppError, toError, type ErrorCode } from '../errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.REQUEST_INVALID]: 400,
  [ErrorCodes.USAGE]: 400,
  [ErrorCodes.IMAGE_EMPTY]: 400,
  [ErrorCodes.IMAGE_UNDECODABLE]: 400,
  [ErrorCodes.FRAME_INVALID]: 400,
  [ErrorCodes.RECIPE_INVALID]: 400,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.INSPECTION_UNKNOWN]: 404,
  [ErrorCodes.CONVERSATION_UNKNOWN]: 404,
  [ErrorCodes.RECIPE_NOT_FOUND]: 404,
  [ErrorCodes.METHOD_NOT_ALLOWED]: 405,
  [ErrorCodes.CAMERA_BUSY]: 409,
  [ErrorCodes.RECIPE_BUNDLE_MISMATCH]: 409,
  [ErrorCodes.LLM_UNAVAILABLE]: 409,
  [ErrorCodes.REVIEW_CONFLICT]: 409,
  [ErrorCodes.RECIPE_EXISTS]: 409,
  [ErrorCodes.RECIPE_BUSY]: 409,
  [ErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCodes.IMAGE_TOO_LARGE]: 413,
  [ErrorCodes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCodes.LLM_CONTEXT]: 422,
  [ErrorCodes.RECIPE_NO_REFERENCES]: 422,
  [ErrorCodes.IMAGE_TOO_SMALL]: 422,
  [ErrorCodes.REVIEW_INVALID]: 422,
  [ErrorCodes.LLM_BUSY]: 429,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.CAMERA_OPEN]: 503,
  [ErrorCodes.CAMERA_READ]: 503,
};

/** Fastify's own 4xx errors (body parsing, limits) under our codes. */
const FASTIFY_CODES: Record<number, ErrorCode> = {
  400: ErrorCodes.REQUEST_INVALID,
  404: ErrorCodes.NOT_FOUND,
  405: ErrorCodes.METHOD_NOT_ALLOWED,
  413: ErrorCodes.PAYLOAD_TOO_LARGE,
  415: ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
};

export interface HttpError {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
}

/** Anything thrown by a route → status, code and a message fit for the client. */
export function httpError(thrown: unknown): HttpError {
  const err = toError(thrown);
  if (isAppError(err)) return { status: STATUS[err.code] ?? 500, code: err.code, message: err.message };
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && FASTIFY_CODES[status]) return { status, code: FASTIFY_CODES[status], message: err.message };
  // An unexpected failure: the details go to the log, not to the client.
  return { status: 500, code: ErrorCodes.UNEXPECTED, message: 'internal error (see the daemon log)' };
}

export function errorBody(e: HttpError): { error: { code: ErrorCode; message: string } } {
  return { error: { code: e.code, message: e.message } };
}
