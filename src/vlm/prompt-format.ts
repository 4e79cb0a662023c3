/**
 * The text around the LLM input (SPEC §6), pure strings: the segments, the default anomaly
 * question with the test scripts' per-class descriptions, and the web demo's multi-turn history.
 */

/** Segment 2, 4 and the tail of segment 6 (SPEC §6 "Sequence assembly"; note the space after </Img>). */
export const HUMAN_IMG_OPEN = '### Human: <Img>';
export const IMG_CLOSE = '</Img> ';
export const ASSISTANT_TAIL = '\n### Assistant:';
/** The generated answer ends at the first "###" (the seed stops on the "##" piece, id 2277). */
export const STOP_TEXT = '###';

const ANOMALY_QUESTION = 'Is there any anomaly in the image?';

const TAIL = 'without any damage, flaw, defect, scratch, hole or broken part.';

/** Test-script descriptions (SPEC §6 table), verbatim, typos included ("chewinggom", "fliped"). */
export const DESCRIPTIONS: Readonly<Record<string, string>> = {
  bottle: `This is a photo of a bottle for anomaly detection, which should be round, ${TAIL}`,
  cable: `This is a photo of three cables for anomaly detection, cables cannot be missed or swapped, which should be ${TAIL}`,
  capsule: `This is a photo of a capsule for anomaly detection, which should be black and orange, with print '500', ${TAIL}`,
  carpet: `This is a photo of carpet for anomaly detection, which should be ${TAIL}`,
  grid: `This is a photo of grid for anomaly detection, which should be ${TAIL}`,
  tile: `This is a photo of tile for anomaly detection, which should be ${TAIL}`,
  hazelnut: `This is a photo of a hazelnut for anomaly detection, which should be ${TAIL}`,
  toothbrush: `This is a photo of a toothbrush for anomaly detection, which should be ${TAIL}`,
  transistor: `This is a photo of a transistor for anomaly detection, which should be ${TAIL}`,
  zipper: `This is a photo of a zipper for anomaly detection, which should be ${TAIL}`,
  leather: `This is a photo of leather for anomaly detection, which should be brown and ${TAIL}`,
  metal_nut: `This is a photo of a metal nut for anomaly detection, which should be without any damage, flaw, defect, scratch, hole or broken part, and shouldn't be fliped.`,
  pill: `This is a photo of a pill for anomaly detection, which should be white, with print 'FF' and red patterns, ${TAIL}`,
  screw: `This is a photo of a screw for anomaly detection, which tail should be sharp, and ${TAIL}`,
  wood: `This is a photo of wood for anomaly detection, which should be brown with patterns, ${TAIL}`,
  candle: `This is a photo of 4 candles for anomaly detection, every candle should be round, ${TAIL}`,
  capsules: `This is a photo of many small capsules for anomaly detection, every capsule is green, should be ${TAIL}`,
  cashew: `This is a photo of a cashew for anomaly detection, which should be ${TAIL}`,
  chewinggum: `This is a photo of a chewinggom for anomaly detection, which should be white, ${TAIL}`,
  fryum: `This is a photo of a fryum for anomaly detection on green background, which should be ${TAIL}`,
  macaroni1: `This is a photo of 4 macaronis for anomaly detection, which should be ${TAIL}`,
  macaroni2: `This is a photo of 4 macaronis for anomaly detection, which should be ${TAIL}`,
  pcb1: `This is a photo of pcb for anomaly detection, which should be ${TAIL}`,
  pcb2: `This is a photo of pcb for anomaly detection, which should be ${TAIL}`,
  pcb3: `This is a photo of pcb for anomaly detection, which should be ${TAIL}`,
  pcb4: `This is a photo of pcb for anomaly detection, which should be ${TAIL}`,
  pipe_fryum: `This is a photo of a pipe fryum for anomaly detection, which should be ${TAIL}`,
};

/** The default question: description + " " + "Is there any anomaly in the image?" (SPEC §6). */
export function anomalyQuestion(part: string): string {
  const key = part.trim().toLowerCase().replace(/ /g, '_');
  const description = DESCRIPTIONS[key] ?? `This is a photo of a ${part.replace(/_/g, ' ')} for anomaly detection, which should be ${TAIL}`;
  return `${description} ${ANOMALY_QUESTION}`;
}

export interface Turn {
  readonly question: string;
  readonly answer: string;
}

/**
 * The prompt of segment 6 for turn n (web demo, SPEC §6 "Multi-turn"):
 * q0 + "\n### Assistant: " + a0 + "\n###" + " Human: " + q1 + … + " Human: " + q_now.
 * Segment 6 is this string + ASSISTANT_TAIL.
 */
export function historyPrompt(history: readonly Turn[], question: string): string {
  let s = '';
  for (const [i, t] of history.entries()) {
    s += `${i === 0 ? '' : ' Human: '}${t.question}\n### Assistant: ${t.answer}\n###`;
  }
  return history.length === 0 ? question : `${s} Human: ${question}`;
}

/** The answer as the seed returns it: cut at the first "###" (it drops the trailing "\n##" tokens). */
export function trimAnswer(text: string): string {
  const at = text.indexOf(STOP_TEXT);
  return (at >= 0 ? text.slice(0, at) : text).trim();
}
