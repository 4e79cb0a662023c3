/**
 * Question → topics, by the table in topics.ts. Pure. Follow-ups need no special grammar: the
 * conversation is about one inspection, so "and where?", "how sure?", "why?" are questions
 * about it. Only a question that names nothing but a time range or a camera ("and
 * yesterday?", "what about cam2?") leans on the previous turn: it asks the previous topic
 * again when that topic uses a range (counts, compare, similar), else it asks for counts.
 */
import { FUTURE, TOPICS, type TopicId } from './topics.js';
import { matchesTerm, term, words, type Term } from './words.js';

interface CompiledRule {
  readonly id: TopicId;
  readonly phrases: readonly (readonly Term[])[];
  readonly keywords: readonly Term[];
  readonly hints: readonly Term[];
  readonly timeRange: boolean;
  readonly onlyAlone: boolean;
}

const RULES: readonly CompiledRule[] = TOPICS.map((t) => ({
  id: t.id,
  phrases: t.phrases.map((p) => p.split(' ').map(term)),
  keywords: t.keywords.map(term),
  hints: t.hints.map(term),
  timeRange: t.timeRange === true,
  onlyAlone: t.onlyAlone === true,
}));

const ALL_TERMS: readonly Term[] = RULES.flatMap((r) => [...r.phrases.flat(), ...r.keywords, ...r.hints]);
const FUTURE_TERMS = FUTURE.map(term);

/** A word that is itself a term somewhere in the table is never read as a typo of another. */
function known(word: string): boolean {
  return ALL_TERMS.some((t) => (t.prefix ? word.startsWith(t.stem) : word === t.stem));
}

const matches = (w: string, t: Term) => matchesTerm(w, t, known);

export interface TopicMatch {
  /** Main topic first; empty when the question asks nothing the table knows. */
  readonly topics: readonly TopicId[];
  readonly scores: Readonly<Partial<Record<TopicId, number>>>;
  /** True when the question is about the future (never answered). */
  readonly future: boolean;
  /** True when the question named only a range or a camera and leaned on the previous turn. */
  readonly followUp?: boolean;
}

/**
 * Points per rule for the words of a question. Phrases first, longest first across all rules
 * (ties in table order), each word used by one phrase at most; then keywords and hints of each
 * rule among the words no phrase took.
 */
function scoreAll(ws: readonly string[]): Map<TopicId, number> {
  const points = new Map<TopicId, number>(RULES.map((r) => [r.id, 0]));
  const used = new Array<boolean>(ws.length).fill(false);
  const phrases = RULES.flatMap((r) => r.phrases.map((p) => ({ id: r.id, p }))).sort((a, b) => b.p.length - a.p.length);
  for (const { id, p } of phrases) {
    for (let i = 0; i + p.length <= ws.length; i++) {
      if (p.every((t, k) => !used[i + k] && matches(ws[i + k], t))) {
        for (let k = 0; k < p.length; k++) used[i + k] = true;
        points.set(id, points.get(id)! + 3);
        break;
      }
    }
  }
  for (const r of RULES) {
    for (let i = 0; i < ws.length; i++) {
      if (used[i]) continue;
      if (r.keywords.some((t) => matches(ws[i], t))) points.set(r.id, points.get(r.id)! + 2);
      else if (r.hints.some((t) => matches(ws[i], t))) points.set(r.id, points.get(r.id)! + 1);
    }
  }
  return points;
}

export interface MatchContext {
  /** The topic answered last in this conversation. */
  readonly previous?: TopicId;
  /** The question named a time range (already taken out of `question`). */
  readonly timeRange: boolean;
  /** The question named a camera. */
  readonly camera: boolean;
}

export function matchTopics(question: string, ctx: MatchContext): TopicMatch {
  const ws = words(question);
  const future = ws.some((w) => FUTURE_TERMS.some((t) => matches(w, t)));
  if (future) return { topics: [], scores: {}, future };
  const own = scoreAll(ws);
  const scores: Partial<Record<TopicId, number>> = {};
  for (const r of RULES) {
    const s = own.get(r.id)! + (ctx.timeRange && r.timeRange ? 2 : 0);
    if (s > 0) scores[r.id] = s;
  }
  const ranked = RULES.filter((r) => (scores[r.id] ?? 0) >= 2).sort((a, b) => (scores[b.id] ?? 0) - (scores[a.id] ?? 0));
  // Only a time range or a camera, nothing else: the previous ranged topic again, or counts.
  const bare = RULES.every((r) => own.get(r.id) === 0);
  if (bare && (ctx.timeRange || ctx.camera)) {
    const prev = ctx.previous && RULES.find((r) => r.id === ctx.previous)?.timeRange && !ctx.camera ? ctx.previous : 'counts';
    return { topics: [prev], scores, future, followUp: true };
  }
  if (ranked.length === 0) return { topics: [], scores, future };
  const [main, ...rest] = ranked;
  // A second topic must be asked for in its own words (a range alone does not make one).
  const also = main.onlyAlone ? [] : rest.filter((r) => !r.onlyAlone && own.get(r.id)! >= 3).slice(0, 2);
  return { topics: [main.id, ...also.map((r) => r.id)], scores, future };
}
