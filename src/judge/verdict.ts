/**
 * The Verdict: the one result type every sink receives. Sinks never re-threshold it
 * (DESIGN principle 5), so OPC UA, MQTT, the archive and the web page always agree.
 */
export type GridWord =
  | 'top left' | 'top' | 'top right'
  | 'left' | 'center' | 'right'
  | 'bottom left' | 'bottom' | 'bottom right';

export interface DefectLocation {
  /** Bounding box in frame pixels. */
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** Region centroid in frame pixels. */
  readonly centroid: { readonly x: number; readonly y: number };
  /** 3×3 grid word of the centroid (SPEC §7). */
  readonly grid: GridWord;
  /** Area in frame pixels. */
  readonly area: number;
  /** Highest anomaly score inside the region. */
  readonly peak: number;
}

export interface StageTimings {
  readonly preprocessMs: number;
  readonly encoderMs: number;
  readonly mapMs: number;
  readonly judgeMs: number;
  readonly totalMs: number;
}

/**
 * The few-shot judge's own decision, always kept under its own name: when the LLM decides,
 * the top-level figures are the LLM's and these stay what the judge saw.
 */
export interface JudgeOpinion {
  readonly pass: boolean;
  readonly score: number;
  readonly threshold: number;
  readonly confidence: number;
  readonly model: { readonly id: string; readonly version: string };
}

/**
 * The AnomalyGPT LLM's threshold-free verdict (issue 4, src/vlm/assistant/): present when the LLM
 * was asked for this frame (assistant.mode). P(yes) ≥ ½ means "Yes, there is an anomaly".
 */
export interface LlmOpinion {
  readonly pYes: number;
  /** What the few-shot judge decided on its own, so disagreements stay visible. */
  readonly judgePass: boolean;
  /** ImageBind encoder + map + prompt learner, and the LLM prefill. */
  readonly visionMs: number;
  readonly prefillMs: number;
}

/**
 * The anomaly map a verdict came from, kept in memory only (issue 10, the live view draws it):
 * never written into the record's JSON (record-schema.ts rowOf) nor sent over MQTT/OPC UA.
 * `data` is row-major height×width, on the judge's scale (values above the recipe's boundary
 * are anomalous); it covers `crop`, a rectangle of the frame in frame pixels.
 */
export interface VerdictMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
  readonly crop: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

export interface Verdict {
  /** Unique inspection id: `<camera>-<capturedAt>-<seq>`. */
  readonly id: string;
  readonly cameraId: string;
  readonly seq: number;
  readonly capturedAt: number;
  readonly decidedAt: number;
  readonly pass: boolean;
  /** Confidence in the decision, 0.5 … 1. */
  readonly confidence: number;
  /**
   * The decider's score and boundary, so that fail ⇔ score > threshold always holds: the
   * judge's image anomaly score and the recipe's boundary, or — decidedBy 'llm' — P(yes) and ½.
   */
  readonly score: number;
  readonly threshold: number;
  readonly locations: readonly DefectLocation[];
  /** Mask PNG at frame size (0/255), present when the frame failed. */
  readonly maskPng?: Uint8Array;
  /** The judge's anomaly map (in memory only; see VerdictMap). */
  readonly map?: VerdictMap;
  readonly recipe: { readonly id: string; readonly version: string };
  /** The decider's model: the few-shot bundle, or the AnomalyGPT bundle when the LLM decided. */
  readonly model: { readonly id: string; readonly version: string };
  readonly timings: StageTimings;
  readonly frame: { readonly width: number; readonly height: number; readonly origin: string };
  /** Who made the pass/fail decision; absent = the judge (no assistant configured). */
  readonly decidedBy?: 'judge' | 'llm';
  /** The judge's own decision (every verdict the Inspector makes carries it). */
  readonly judge?: JudgeOpinion;
  readonly llm?: LlmOpinion;
}
