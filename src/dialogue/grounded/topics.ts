/**
 * What the grounded answerer can be asked, as one plain table (English). A question scores
 * for each topic: 3 per phrase found (a phrase is one or more words, matched in sequence), 2
 * per keyword, 1 per hint. Phrases are found longest first across all topics and a word belongs
 * to one phrase only ("how many defects" is where's, so its "how many" is not counts'); words
 * outside phrases count as keywords and hints (intent.ts). The best topic with at least 2
 * points is answered; others with at least 3 points of their own are answered after it ("why
 * did it fail and where?"). Terms ending in "*" are stems; typos are tolerated
 * (words.ts). Time ranges ("today", "last 24 hours", "since 06:00" — time-range.ts) are taken
 * out of the question before it is scored, and add 2 to the topics that use them.
 *
 * | topic      | answers from                           | e.g.                                   |
 * |------------|----------------------------------------|----------------------------------------|
 * | verdict    | the inspection                         | did it pass? what happened?            |
 * | why        | the inspection                         | why did it fail? by how much?          |
 * | where      | the inspection's regions               | where is the defect? how big is it?    |
 * | confidence | the inspection                         | how sure is it? could it be a false reject? |
 * | recipe     | the inspection + the recipe            | which recipe decided? which references? |
 * | compare    | the archive: recent passes             | how does it compare with normal parts? |
 * | similar    | the archive: past fails, this camera   | have we seen this before?              |
 * | counts     | the archive: counts over a time range  | how many failed today? yield this week? |
 * | timing     | the inspection                         | when was it inspected? how long did it take? |
 * | help       | this table                             | what can I ask?                        |
 *
 * Questions about the future (will, tomorrow, predict, forecast) are never answered: the
 * record only knows the past.
 */

export type TopicId = 'verdict' | 'why' | 'where' | 'confidence' | 'recipe' | 'compare' | 'similar' | 'counts' | 'timing' | 'help';

export interface TopicRule {
  readonly id: TopicId;
  /** What it answers, for the list an unanswerable question gets (no digits). */
  readonly can: string;
  readonly example: string;
  readonly phrases: readonly string[];
  readonly keywords: readonly string[];
  readonly hints: readonly string[];
  /** Answers over a time range when the question names one. */
  readonly timeRange?: boolean;
  /** Never answered second, after another topic (too general). */
  readonly onlyAlone?: boolean;
}

/** In priority order: on equal scores the earlier topic wins. */
export const TOPICS: readonly TopicRule[] = [
  {
    id: 'why',
    can: 'why it failed or passed: its score against the boundary, and by how much',
    example: 'why did it fail?',
    phrases: ['why', 'how come', 'what caused', 'what made it', 'by how much', 'how far', 'how close'],
    keywords: ['reason*', 'cause*', 'explain*', 'margin*', 'threshold*', 'boundary', 'boundaries', 'score*', 'exceed*', 'above', 'below'],
    hints: ['fail*', 'reject*', 'pass*'],
  },
  {
    id: 'where',
    can: 'where the defects are and how big: regions, boxes, area in pixels and share of the frame',
    example: 'where is the defect and how big is it?',
    phrases: ['where', 'which part of', 'what part of', 'how big', 'how large', 'how small', 'what size', 'how many defects', 'how many regions', 'how many spots', 'how many areas'],
    keywords: ['locat*', 'region*', 'area*', 'size*', 'big', 'large', 'box*', 'position*', 'spot*', 'pixel*', 'px', 'corner*', 'mask', 'extent', 'wide', 'tall'],
    hints: ['defect*'],
  },
  {
    id: 'confidence',
    can: 'how confident the decision is',
    example: 'how sure is it?',
    phrases: ['how sure', 'how confident', 'how certain', 'false reject', 'false alarm', 'false positive', 'false call', 'really'],
    keywords: ['sure', 'confiden*', 'certain*', 'reliab*', 'trust*', 'probab*', 'likel*', 'doubt*', 'wrong', 'mistake*'],
    hints: [],
  },
  {
    id: 'recipe',
    can: 'which recipe, references, boundary rule and model decided',
    example: 'which recipe and references decided?',
    phrases: ['which recipe', 'what recipe', 'who decided', 'what decided', 'which model', 'what model', 'good references', 'reference images', 'boundary rule', 'how was the boundary'],
    keywords: ['recipe*', 'referenc*', 'refs', 'calibrat*', 'derived', 'computed', 'model*', 'decided', 'decider', 'judge*', 'llm', 'rule', 'version*', 'shots'],
    hints: [],
  },
  {
    id: 'compare',
    can: 'how this part compares with the recent passes of its camera and recipe',
    example: 'how does it compare with recent passes?',
    phrases: ['recent passes', 'other parts', 'good parts', 'normal parts', 'the others', 'than usual', 'than normal', 'compared to', 'compared with'],
    keywords: ['compar*', 'usual*', 'typical*', 'normal*', 'percentile*', 'median', 'average', 'versus', 'vs', 'relative*', 'drift*'],
    hints: ['recent*', 'others'],
    timeRange: true,
  },
  {
    id: 'similar',
    can: 'similar past fails on this camera: same place, close score',
    example: 'have we seen this defect before?',
    phrases: ['seen before', 'seen this', 'happened before', 'same defect', 'same place', 'same spot', 'same region', 'like this', 'other fails', 'past fails', 'previous fails', 'earlier fails'],
    keywords: ['similar*', 'resembl*', 'alike', 'recur*', 'repeat*', 'previous*', 'earlier', 'past', 'before', 'again', 'history', 'same'],
    hints: [],
    timeRange: true,
  },
  {
    id: 'counts',
    can: 'counts and yield over a time range (today, yesterday, this week, last hour, last N hours, since HH:MM), for this camera, another or all',
    example: 'how many failed today?',
    phrases: ['how many', 'pass rate', 'fail rate', 'reject rate', 'scrap rate', 'first pass yield', 'so far'],
    keywords: ['yield*', 'count*', 'total*', 'rate', 'inspected', 'throughput', 'statistic*', 'stats', 'percentage', 'tally', 'production'],
    hints: ['fail*', 'pass*', 'reject*', 'parts', 'inspections'],
    timeRange: true,
  },
  {
    id: 'timing',
    can: 'when it was inspected and how long each stage took',
    example: 'when was it inspected and how long did it take?',
    phrases: ['how long', 'when was', 'when did', 'what time', 'how fast', 'how slow'],
    keywords: ['when', 'time', 'timing*', 'duration', 'latency', 'millisecond*', 'ms', 'fast', 'slow', 'speed', 'captured', 'date'],
    hints: ['took'],
  },
  {
    id: 'verdict',
    can: 'the verdict in short: pass or fail, score, boundary, who decided',
    example: 'did it pass?',
    phrases: ['did it pass', 'did it fail', 'is it ok', 'is it okay', 'is it good', 'is it bad', 'is it defective', 'is there any anomaly', 'is there an anomaly', 'is there a defect', 'any defect', 'any defects', 'any anomaly', 'what happened', 'whats wrong', 'what is wrong', 'tell me about'],
    keywords: ['result*', 'verdict*', 'outcome', 'summary', 'summari*', 'overview', 'status', 'anomal*', 'defective', 'ok', 'okay'],
    hints: ['fail*', 'pass*', 'reject*', 'defect*', 'good', 'bad'],
    onlyAlone: true,
  },
  {
    id: 'help',
    can: 'this list',
    example: 'what can I ask?',
    phrases: ['what can you', 'what can i ask', 'what do you know', 'what else'],
    keywords: ['help', 'topics', 'commands', 'capabilit*', 'options'],
    hints: [],
    onlyAlone: true,
  },
];

/** Questions about what has not happened yet: the record cannot answer them. */
export const FUTURE = ['will', 'tomorrow', 'predict*', 'forecast*', 'future'];

/** Words that ask for every camera rather than this inspection's (counts). */
export const ALL_CAMERAS = ['all', 'every', 'overall', 'line', 'cameras', 'everywhere', 'plant'];

export function topicRule(id: TopicId): TopicRule {
  return TOPICS.find((t) => t.id === id)!;
}
