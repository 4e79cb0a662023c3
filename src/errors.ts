/**
 * Named error codes. Every failure a plant engineer can see carries one of these codes,
 * so logs, the status endpoint and (later) OPC UA/MQTT can report it without parsing text.
 * Exit codes follow sysexits(3): 78 (EX_CONFIG) stops systemd from restart-looping
 * (the unit sets RestartPreventExitStatus=78).
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'E_CONFIG_INVALID',
  CONFIG_UNREADABLE: 'E_CONFIG_UNREADABLE',
  BUNDLE_MISSING_FILE: 'E_BUNDLE_MISSING_FILE',
  BUNDLE_CHECKSUM: 'E_BUNDLE_CHECKSUM',
  BUNDLE_INVALID: 'E_BUNDLE_INVALID',
  MODEL_LOAD: 'E_MODEL_LOAD',
  MODEL_SHAPE: 'E_MODEL_SHAPE',
  RECIPE_NOT_FOUND: 'E_RECIPE_NOT_FOUND',
  RECIPE_NO_REFERENCES: 'E_RECIPE_NO_REFERENCES',
  RECIPE_INVALID: 'E_RECIPE_INVALID',
  RECIPE_BUNDLE_MISMATCH: 'E_RECIPE_BUNDLE_MISMATCH',
  IMAGE_EMPTY: 'E_IMAGE_EMPTY',
  IMAGE_UNDECODABLE: 'E_IMAGE_UNDECODABLE',
  /** An image or frame above images.maxPixels (or the binding's hard cap), refused before decoding. */
  IMAGE_TOO_LARGE: 'E_IMAGE_TOO_LARGE',
  /** A frame far smaller than the recipe's model input (image-limits.ts MAX_UPSCALE), refused before inspection. */
  IMAGE_TOO_SMALL: 'E_IMAGE_TOO_SMALL',
  FRAME_INVALID: 'E_FRAME_INVALID',
  CAMERA_OPEN: 'E_CAMERA_OPEN',
  CAMERA_READ: 'E_CAMERA_READ',
  CAMERA_BUSY: 'E_CAMERA_BUSY',
  DATASET_LAYOUT: 'E_DATASET_LAYOUT',
  ARCHIVE_IO: 'E_ARCHIVE_IO',
  STOP_TIMEOUT: 'E_STOP_TIMEOUT',
  USAGE: 'E_USAGE',
  /** A prompt (or prompt + cache) longer than the LLM's context length. */
  LLM_CONTEXT: 'E_LLM_CONTEXT',
  /** A tokenizer file that is unreadable or does not match the LLM (vocabulary size, ids). */
  LLM_TOKENIZER: 'E_LLM_TOKENIZER',
  /** A language-model checkpoint whose header or size is not what its format says. */
  LLM_CHECKPOINT: 'E_LLM_CHECKPOINT',
  /** A part name with no text prototypes in the AnomalyGPT bundle (SPEC §3 class table). */
  PART_UNKNOWN: 'E_PART_UNKNOWN',
  /** An inspection id the daemon no longer holds (not recent, no archived frame). */
  INSPECTION_UNKNOWN: 'E_INSPECTION_UNKNOWN',
  /** A conversation id that is unknown, closed or expired. */
  CONVERSATION_UNKNOWN: 'E_CONVERSATION_UNKNOWN',
  /** Too many answers being generated or queued (assistant.dialogue.maxConcurrent / maxQueued). */
  LLM_BUSY: 'E_LLM_BUSY',
  /** A request only a language model can answer (the LLM verdict) while none is loaded (assistant.enabled false). */
  LLM_UNAVAILABLE: 'E_LLM_UNAVAILABLE',
  /** A malformed request to the HTTP API (body, JSON, field). */
  REQUEST_INVALID: 'E_REQUEST_INVALID',
  /** No such HTTP route or resource. */
  NOT_FOUND: 'E_NOT_FOUND',
  /** The route exists, not with this method (the reply says which are allowed). */
  METHOD_NOT_ALLOWED: 'E_METHOD_NOT_ALLOWED',
  /** A request body over the route's limit. */
  PAYLOAD_TOO_LARGE: 'E_PAYLOAD_TOO_LARGE',
  /** A request body in a content type the route does not take. */
  UNSUPPORTED_MEDIA_TYPE: 'E_UNSUPPORTED_MEDIA_TYPE',
  /** The HTTP API needs a signed-in user (off loopback) or the sign-in failed. */
  UNAUTHORIZED: 'E_UNAUTHORIZED',
  /** Signed in, but not allowed: the role lacks the right, or a state change failed the CSRF / Origin / Host check. */
  FORBIDDEN: 'E_FORBIDDEN',
  /** Too many sign-in attempts or questions from one client in a minute (Retry-After says when to retry). */
  RATE_LIMITED: 'E_RATE_LIMITED',
  /** The inspection was reviewed already (by anyone); its review stands until undone. */
  REVIEW_CONFLICT: 'E_REVIEW_CONFLICT',
  /** A review that cannot be applied: no saved frame, the label equals the verdict, a recipe not loaded. */
  REVIEW_INVALID: 'E_REVIEW_INVALID',
  /** A recipe id that exists already (POST /api/recipes without replace). */
  RECIPE_EXISTS: 'E_RECIPE_EXISTS',
  /** The recipe is being changed (a review, undo or new version in progress); retry when it is done. */
  RECIPE_BUSY: 'E_RECIPE_BUSY',
  /** Anything not anticipated (a bug or an unnamed failure of a dependency); logged with its stack. */
  UNEXPECTED: 'E_UNEXPECTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }
}

/** OpenCV (opencv4nodejs) throws plain strings; turn anything thrown into an Error. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}

export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}

export const ExitCodes = { OK: 0, FAILURE: 1, USAGE: 64, DATA: 65, CONFIG: 78 } as const;
