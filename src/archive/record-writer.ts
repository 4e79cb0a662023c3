/**
 * The main thread's handle on the record's writer thread (record-worker.ts): requests go out
 * as messages, each resolves when the transaction that holds it has committed. Requests made
 * while a commit runs share the next one (group commit). The latest WriterState (head, totals,
 * cursors, counters) comes back with every commit.
 */
import { Worker } from 'node:worker_threads';
import { AppError, ErrorCodes } from '../errors.js';
import type { Eviction, RecordRow, ReviewRow, WriterInit, WriterReply, WriterRequest, WriterState } from './record-schema.js';

type Pending = { resolve: (seq: number | null) => void; reject: (e: Error) => void };
type Request = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** Under tap's TypeScript loader the worker is the .ts source; from dist/ it is the .js. */
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './record-worker.ts' : './record-worker.js', import.meta.url);

export class RecordWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #state: WriterState;
  #closed = false;
  #fatal: Error | undefined;
  /** Called after a commit that evicted rows. */
  onEviction: ((e: Eviction) => void) | undefined;

  private constructor(worker: Worker, state: WriterState) {
    this.#worker = worker;
    this.#state = state;
    // The owner closes the record explicitly (lifecycle stop); an idle writer must not keep a
    // process alive that has nothing else to do.
    worker.unref();
    worker.on('message', (r: WriterReply) => this.#onReply(r));
    worker.on('error', (e) => this.#die(e));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#die(new Error(`record writer thread exited (code ${code})`));
    });
  }

  /** Starts the thread, opens (or creates) the database; rejects with E_ARCHIVE_IO. */
  static open(init: WriterInit): Promise<{ writer: RecordWriter; removedOrphans: number }> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER, { workerData: init });
      const fail = (e: Error) => reject(new AppError(ErrorCodes.ARCHIVE_IO, `inspection record ${init.path}: ${e.message}`, { cause: e }));
      worker.once('error', fail);
      worker.once('message', (r: WriterReply) => {
        worker.off('error', fail);
        if (r.op === 'opened') resolve({ writer: new RecordWriter(worker, r.state), removedOrphans: r.removedOrphans });
        else fail(new Error(r.op === 'fatal' ? r.message : `unexpected ${r.op}`));
      });
    });
  }

  get state(): WriterState {
    return this.#state;
  }

  /** Requests not committed yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Resolves with the row's seq once it is committed. */
  async append(row: RecordRow): Promise<number> {
    return (await this.#send({ op: 'append', row }))!;
  }

  async setCursor(name: string, seq: number): Promise<void> {
    await this.#send({ op: 'cursor', name, seq });
  }

  async count(name: string, delta: number): Promise<void> {
    await this.#send({ op: 'count', name, delta });
  }

  /** Resolves with the review's id once it is committed. */
  async review(review: ReviewRow): Promise<number> {
    return (await this.#send({ op: 'review', review }))!;
  }

  /** Commits what is queued and ends the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const last = this.#fatal ? Promise.resolve(null) : this.#send({ op: 'close' });
    this.#closed = true;
    await last.catch(() => undefined);
    await this.#worker.terminate().catch(() => undefined);
  }

  #send(r: Request): Promise<number | null> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    if (this.#closed) return Promise.reject(new AppError(ErrorCodes.ARCHIVE_IO, 'the inspection record is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...r, id } as WriterRequest);
    });
  }

  #onReply(r: WriterReply): void {
    if (r.op === 'committed') {
      this.#state = r.state;
      if (r.eviction) this.onEviction?.(r.eviction);
      r.ids.forEach((id, i) => this.#settle(id, (p) => p.resolve(r.seqs[i])));
    } else if (r.op === 'failed') {
      const err = new AppError(ErrorCodes.ARCHIVE_IO, `inspection record write failed: ${r.message}`);
      for (const id of r.ids) this.#settle(id, (p) => p.reject(err));
    } else if (r.op === 'fatal') {
      this.#die(new Error(r.message));
    }
  }

  #settle(id: number, fn: (p: Pending) => void): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    fn(p);
  }

  #die(e: Error): void {
    this.#fatal ??= new AppError(ErrorCodes.ARCHIVE_IO, `inspection record writer failed: ${e.message}`, { cause: e });
    for (const [id] of this.#pending) this.#settle(id, (p) => p.reject(this.#fatal!));
  }
}
