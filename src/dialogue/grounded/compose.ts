/**
 * One grounded answer: the question's time range and camera, its topics (intent.ts), and per
 * topic an answer composed only of facts looked up in the inspection, the recipe and the
 * archive (answers/). A question the table does not know gets the list of what can be asked.
 */
import type { RecordedInspection } from '../../archive/record-schema.js';
import type { GroundedFacts } from '../types.js';
import { compareAnswer } from './answers/compare.js';
import type { AnswerContext } from './answers/context.js';
import { countsAnswer } from './answers/counts.js';
import { confidenceAnswer, verdictAnswer, whyAnswer } from './answers/decision.js';
import { helpAnswer, unknownAnswer } from './answers/help.js';
import { recipeAnswer } from './answers/recipe.js';
import { similarAnswer } from './answers/similar.js';
import { timingAnswer } from './answers/timing.js';
import { whereAnswer } from './answers/where.js';
import { FactSheet } from './facts.js';
import { matchTopics } from './intent.js';
import type { GroundedDeps } from './ports.js';
import { parseTimeRange } from './time-range.js';
import { ALL_CAMERAS, type TopicId } from './topics.js';
import { matchesTerm, term, words } from './words.js';

const ANSWERS: Record<Exclude<TopicId, 'help'>, (c: AnswerContext) => string> = {
  verdict: verdictAnswer,
  why: whyAnswer,
  where: whereAnswer,
  confidence: confidenceAnswer,
  recipe: recipeAnswer,
  compare: compareAnswer,
  similar: similarAnswer,
  counts: countsAnswer,
  timing: timingAnswer,
};

export interface Composed extends GroundedFacts {
  readonly text: string;
  /** What the next turn may lean on ("and yesterday?" after "how many failed today on cam2?"). */
  readonly next?: Previous;
}

/** The previous answered turn of the conversation. */
export interface Previous {
  readonly topic: TopicId;
  /** The camera scope counts were given for. */
  readonly camera?: string;
  readonly allCameras?: boolean;
}

const ALL_CAMERA_TERMS = ALL_CAMERAS.map(term);

/** A configured camera the question names as a word ("cam2", "line-2/top"), other than by typo. */
function namedCamera(question: string, cameras: readonly string[]): string | undefined {
  const q = question.toLowerCase();
  return [...cameras]
    .sort((a, b) => b.length - a.length)
    .find((id) => new RegExp(`(^|[^a-z0-9])${id.toLowerCase().replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')}($|[^a-z0-9])`).test(q));
}

export function composeAnswer(question: string, inspection: RecordedInspection, deps: GroundedDeps, previous?: Previous): Composed {
  const now = (deps.now ?? Date.now)();
  const parsed = parseTimeRange(question, now);
  const rest = parsed?.rest ?? question;
  const named = namedCamera(rest, [...(deps.cameras?.() ?? []), inspection.verdict.cameraId]);
  const match = matchTopics(rest, { ...(previous ? { previous: previous.topic } : {}), timeRange: parsed !== undefined, camera: named !== undefined });
  const f = new FactSheet();
  if (match.topics.length === 0) return { text: unknownAnswer(match.future), topic: 'unknown', topics: [], facts: [] };
  if (match.topics[0] === 'help') return { text: helpAnswer(), topic: 'help', topics: ['help'], facts: [] };
  let all = words(rest).some((w) => ALL_CAMERA_TERMS.some((t) => matchesTerm(w, t, () => true)));
  let scope = named;
  // A bare follow-up of counts ("and yesterday?") keeps the previous counts' camera scope.
  if (match.followUp && !named && !all && previous?.topic === 'counts') {
    scope = previous.camera;
    all = previous.allCameras === true;
  }
  const ctx: AnswerContext = {
    inspection,
    archive: deps.archive,
    ...(deps.recipes ? { recipes: deps.recipes } : {}),
    ...(parsed ? { range: parsed.range } : {}),
    ...(scope ? { camera: scope } : {}),
    allCameras: all,
    now,
    f,
  };
  const topics = match.topics.filter((t): t is Exclude<TopicId, 'help'> => t !== 'help');
  const text = topics.map((t) => ANSWERS[t](ctx)).join('\n\n');
  return { text, topic: topics[0], topics, facts: f.facts, next: { topic: topics[0], ...(scope ? { camera: scope } : {}), allCameras: all } };
}
