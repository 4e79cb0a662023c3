/**
 * Pending trigger() calls of a Camera. A trigger is satisfied only by a frame whose read
 * started after the trigger was made, so a live camera never answers with a frame that
 * was already sitting in the driver's buffer.
 */
import { AppError, ErrorCodes } from '../errors.js';
import type { Frame } from './frame.js';

interface Waiter {
  readonly afterRead: number;
  resolve(frame: Frame): void;
  reject(error: Error): void;
}

export class TriggerQueue {
  private waiters: Waiter[] = [];
  private wake: (() => void) | undefined;

  get size(): number {
    return this.waiters.length;
  }

  /** A promise for the first frame from a read numbered above `readsStarted`. */
  add(readsStarted: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ afterRead: readsStarted, resolve, reject });
      this.wake?.();
    });
  }

  /** Resolves when a trigger is added (or at once if one is pending). */
  next(): Promise<void> {
    if (this.waiters.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }

  wants(read: number): boolean {
    return this.waiters.some((w) => w.afterRead < read);
  }

  /** Hand `frame` (from read number `read`) to all due triggers, or to the oldest only. */
  settle(frame: Frame, read: number, all: boolean): void {
    const due = this.waiters.filter((w) => w.afterRead < read);
    const served = all ? due : due.slice(0, 1);
    this.waiters = this.waiters.filter((w) => !served.includes(w));
    for (const w of served) w.resolve(frame);
  }

  rejectAll(message: string): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new AppError(ErrorCodes.CAMERA_READ, message));
  }
}
