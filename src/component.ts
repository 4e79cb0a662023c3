/**
 * The lifecycle contract every long-lived part implements (engine, recipes, archive, outputs,
 * HTTP server…). It lives at the root of src/ so that any folder can implement it without
 * importing the daemon that orders the components (src/daemon/lifecycle.ts).
 */
export interface Component {
  readonly name: string;
  /** Acquire resources; abort promptly when `signal` fires. Must release what it took if it rejects. */
  start(signal: AbortSignal): Promise<void>;
  /** Release everything; idempotent. */
  stop(): Promise<void>;
}
