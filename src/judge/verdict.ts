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
  /** Image anomaly score (same units as the recipe's threshold). */
  readonly score: number;
  /** The decision boundary the recipe derived from its own normal references. */
  readonly threshold: number;
  readonly locations: readonly DefectLocation[];
  /** Mask PNG at frame size (0/255), present when the frame failed. */
  readonly maskPng?: Uint8Array;
  readonly recipe: { readonly id: string; readonly version: string };
  readonly model: { readonly id: string; readonly version: string };
  readonly timings: StageTimings;
  readonly frame: { readonly width: number; readonly height: number; readonly origin: string };
  /** Who made the pass/fail decision; absent = the judge (no assistant configured). */
  readonly decidedBy?: 'judge' | 'llm';
  readonly llm?: LlmOpinion;
}
