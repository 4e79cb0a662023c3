/**
 * One pino line per verdict at info: enough to follow a line from `journalctl -o cat`
 * (or pipe into jq) without opening the archive. The mask PNG and frame never go to the log.
 */
import type { Frame } from '../capture/frame.js';
import type { Verdict } from '../judge/verdict.js';
import type { Logger } from '../log.js';
import type { VerdictSink } from './sink.js';

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** The verdict as log fields (also used by `inspect`'s stderr progress). */
function verdictLogFields(v: Verdict): Record<string, unknown> {
  return {
    id: v.id,
    camera: v.cameraId,
    pass: v.pass,
    score: round(v.score, 5),
    threshold: round(v.threshold, 5),
    confidence: round(v.confidence, 3),
    locations: v.locations.map((l) => l.grid),
    recipe: `${v.recipe.id}@${v.recipe.version}`,
    ms: {
      total: round(v.timings.totalMs, 1),
      preprocess: round(v.timings.preprocessMs, 1),
      encoder: round(v.timings.encoderMs, 1),
      map: round(v.timings.mapMs, 1),
      judge: round(v.timings.judgeMs, 1),
    },
  };
}

export class LogSink implements VerdictSink {
  readonly name = 'log';

  constructor(private readonly logger: Pick<Logger, 'info'>) {}

  publish(verdict: Verdict, _frame: Frame): void {
    this.logger.info(verdictLogFields(verdict), verdict.pass ? 'pass' : 'fail');
  }
}
