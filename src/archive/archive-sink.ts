/**
 * The inspection archive as a verdict sink: every verdict (with the frame, per the archive's
 * saveFrames policy) goes through InspectionArchive.record, which queues, writes atomically
 * and never rejects. Opening and closing the archive belong to the composition root.
 */
import type { Frame } from '../capture/frame.js';
import type { InspectionArchive } from './archive.js';
import type { Verdict } from '../judge/verdict.js';
import type { VerdictSink } from '../publish/sink.js';

export class ArchiveSink implements VerdictSink {
  readonly name = 'archive';
  /**
   * The archive bounds its own queue (ArchiveOptions.maxPending; records beyond it are dropped
   * and counted there, and record() then resolves at once), so the fan-out need not.
   */
  readonly maxPending = Number.POSITIVE_INFINITY;

  constructor(private readonly archive: Pick<InspectionArchive, 'record'>) {}

  publish(verdict: Verdict, frame: Frame): Promise<void> {
    return this.archive.record(verdict, frame);
  }
}
