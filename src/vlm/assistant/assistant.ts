/**
 * The assistant: the AnomalyGPT bundle inside the daemon (issue 4). On the hot path it turns the
 * judge's verdict into the LLM's when the policy asks for it (assistant.mode), with the judge as
 * the fallback when the LLM fails; off the hot path it gives the LLM verdict on request and the
 * LLM inputs of recent inspections to the dialogue service.
 *
 * Memory is bounded: the LLM inputs ((1 + 18)·H floats, ≈ 311 kB at H = 4096) of the last
 * `recentInspections` analysed frames, and copies of the last `recentFrames` frames that were
 * not analysed (so a technician can still ask about them); older ones come from the archive's
 * saved frame, if any. KV caches are never kept per frame (≈ 94 MB each at full size).
 */
import type { Logger } from 'pino';
import { AnomalyGpt, type ImageInput, type LlmImageInputs } from '../anomalygpt.js';
import type { FewShotMapper } from '../vision.js';
import type { Conversation } from '../conversation.js';
import type { Frame } from '../../capture/frame.js';
import type { Component } from '../../component.js';
import { AppError, ErrorCodes, toError } from '../../errors.js';
import type { ExecutionProviderName } from '../../inference/ort-session.js';
import type { Verdict } from '../../judge/verdict.js';
import type { AssistantConfig, OverrulePolicy } from '../../config/assistant.js';
import { LlmPolicy } from './llm-policy.js';
import { RecentMap } from '../../util/recent-map.js';

export interface AssistantOptions {
  /** `bundle` already resolved to an absolute path. */
  readonly config: AssistantConfig;
  readonly executionProviders: readonly ExecutionProviderName[];
  readonly intraOpThreads: number;
  readonly logger: Logger;
  /** The archived frame of an inspection, decoded; undefined when none was saved. */
  readonly archivedFrame?: (inspectionId: string) => Promise<ImageInput | undefined>;
  /**
   * A recipe version's kept reference images (undefined: none kept). With them the bundle's
   * few-shot map (SPEC §4) replaces the text-prototype map for that recipe — the seed's
   * in-context few-shot mode, fed by the same good parts the judge's memory bank came from.
   */
  readonly recipeReferences?: (recipe: RecipeRef) => Promise<readonly ImageInput[] | undefined>;
  /** The recipes in use at start: their few-shot maps are built before READY. */
  readonly recipesInUse?: () => readonly RecipeRef[];
}

export interface RecipeRef {
  readonly id: string;
  readonly version: string;
}

/** Few-shot map sessions kept (recipe versions): a switch back and forth needs no rebuild. */
const MAX_FEW_SHOT_MAPS = 4;

/**
 * A recipe version's few-shot map. `ready` stays unset when the recipe keeps no references or
 * the build failed: the text-prototype map then, and no retry for that version (the entry stays).
 */
interface MapEntry {
  ready?: FewShotMapper;
  readonly built: Promise<void>;
  /** Set when the entry leaves the map: its session released once built. */
  released?: Promise<void>;
}

export interface LlmVerdictResult {
  readonly inspectionId: string;
  readonly pYes: number;
  readonly anomalous: boolean;
  readonly visionMs: number;
  readonly prefillMs: number;
}

export interface AssistantStatus {
  readonly mode: string;
  readonly overrule: string;
  readonly part: string;
  readonly bundle: string | null;
  readonly loaded: boolean;
  /** overruled: the LLM changed the judge's decision; overruleRefused: it disagreed, the policy kept the judge's. */
  readonly counters: { llmVerdicts: number; judgeOnly: number; llmErrors: number; overruled: number; overruleRefused: number; fewShotMaps: number };
  /** Recipe versions (id@version) whose few-shot map is ready. */
  readonly fewShot: string[];
  readonly lastError: { readonly code?: string; readonly message: string; readonly at: number } | null;
}

export class Assistant implements Component {
  readonly name = 'assistant';
  readonly policy: LlmPolicy;
  private model: AnomalyGpt | undefined;
  private readonly inputs: RecentMap<string, LlmImageInputs>;
  private readonly frames: RecentMap<string, ImageInput>;
  private readonly counters = { llmVerdicts: 0, judgeOnly: 0, llmErrors: 0, overruled: 0, overruleRefused: 0, fewShotMaps: 0 };
  private readonly maps = new RecentMap<string, MapEntry>(MAX_FEW_SHOT_MAPS, (_, e) => {
    e.released = e.built.then(() => e.ready?.release());
  });
  private lastError: AssistantStatus['lastError'] = null;

  constructor(private readonly options: AssistantOptions) {
    const c = options.config;
    this.policy = new LlmPolicy(c.mode, c.maxPerSecond);
    this.inputs = new RecentMap(c.recentInspections);
    this.frames = new RecentMap(c.recentFrames);
  }

  get anomalyGpt(): AnomalyGpt {
    if (!this.model) throw new AppError(ErrorCodes.MODEL_LOAD, 'the assistant is not started');
    return this.model;
  }

  async start(): Promise<void> {
    const c = this.options.config;
    if (!c.bundle) throw new AppError(ErrorCodes.CONFIG_INVALID, 'assistant.bundle: required when assistant.enabled is true');
    const t0 = performance.now();
    this.model = await AnomalyGpt.load(c.bundle, {
      logger: this.options.logger,
      partName: c.part,
      ...(c.question ? { question: c.question } : {}),
      maxAnswerTokens: c.dialogue.maxAnswerTokens,
      executionProviders: this.options.executionProviders,
      intraOpThreads: this.options.intraOpThreads,
    });
    // Warm-up before READY: one full LLM verdict on a grey image (first runs allocate arenas).
    const side = this.model.dims.size;
    const grey: ImageInput = { data: new Uint8Array(side * side).fill(128), width: side, height: side, channels: 1 };
    const w = await this.verdictOf(grey);
    // The recipes in use get their few-shot maps now, so the first frames do not wait for them.
    for (const r of this.options.recipesInUse?.() ?? []) await this.mapEntry(r).built;
    this.options.logger.info(
      { bundle: this.model.manifest.id, part: this.model.part.name, mode: c.mode, ms: Math.round(performance.now() - t0), warmupPrefillMs: +w.prefillMs.toFixed(2) },
      'assistant ready',
    );
  }

  async stop(): Promise<void> {
    const m = this.model;
    this.model = undefined;
    const entries = [...this.maps.entries()];
    for (const [key] of entries) this.maps.delete(key);
    await Promise.all(entries.map(([, e]) => e.released));
    await m?.release();
  }

  /** Hot path: the verdict to publish (the LLM's when the policy wants it, else the judge's). */
  async decide(frame: Frame, verdict: Verdict): Promise<Verdict> {
    if (!this.model) return verdict;
    if (!this.policy.wants(frame.cameraId, verdict.pass)) {
      this.counters.judgeOnly++;
      // recentFrames: 0 turns the copy off (questions then need the archive's saved frame).
      if (this.options.config.recentFrames > 0) this.frames.set(verdict.id, copyFrame(frame));
      return { ...verdict, decidedBy: 'judge' };
    }
    try {
      const r = await this.verdictOf(frame, verdict.id, this.mapEntry(verdict.recipe).ready);
      this.counters.llmVerdicts++;
      const llm = { pYes: r.pYes, judgePass: verdict.pass, visionMs: r.visionMs, prefillMs: r.prefillMs };
      const pass = r.pYes < 0.5;
      if (!llmDecides(this.options.config.overrule, verdict.pass, pass)) {
        // The policy keeps the judge's decision; the LLM's opinion is kept beside it.
        if (pass !== verdict.pass) this.counters.overruleRefused++;
        return { ...verdict, decidedBy: 'judge', llm };
      }
      if (pass !== verdict.pass) this.counters.overruled++;
      const { maskPng, ...rest } = verdict;
      const m = this.anomalyGpt.manifest;
      return {
        ...rest,
        pass,
        confidence: Math.max(r.pYes, 1 - r.pYes),
        // The decider's own figures, so fail ⇔ score > threshold holds for every reader.
        score: r.pYes,
        threshold: 0.5,
        model: { id: m.id, version: m.version },
        // A part the LLM passes has no defect locations or mask, whatever the judge's map showed.
        locations: pass ? [] : verdict.locations,
        ...(!pass && maskPng ? { maskPng } : {}),
        decidedBy: 'llm',
        llm,
      };
    } catch (e) {
      // The judge's verdict stands (the fallback); the failure is counted and shown in status.
      const err = toError(e);
      this.counters.llmErrors++;
      this.lastError = { code: (err as { code?: string }).code, message: err.message, at: Date.now() };
      this.options.logger.warn({ err, inspection: verdict.id }, 'LLM verdict failed; the judge decides');
      return { ...verdict, decidedBy: 'judge' };
    }
  }

  /** The LLM verdict for a recent inspection, on request. */
  async verdictFor(inspectionId: string): Promise<LlmVerdictResult> {
    const t0 = performance.now();
    const inputs = await this.inputsFor(inspectionId);
    return this.llmVerdict(inspectionId, inputs, performance.now() - t0);
  }

  /** LLM inputs of an inspection: kept, or recomputed from its kept or archived frame. */
  async inputsFor(inspectionId: string): Promise<LlmImageInputs> {
    const kept = this.inputs.get(inspectionId);
    if (kept) return kept;
    const frame = this.frames.get(inspectionId) ?? (await this.options.archivedFrame?.(inspectionId));
    if (!frame) {
      throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, `inspection ${inspectionId} is not among the last ${this.options.config.recentInspections} kept in memory and has no archived frame`);
    }
    const inputs = await this.analyse(frame);
    this.inputs.set(inspectionId, inputs);
    return inputs;
  }

  /** A new LLM conversation about an inspection (the dialogue service's source). */
  async conversationFor(inspectionId: string, opts: { maxTurns: number; maxHistoryTokens: number; maxAnswerTokens: number }): Promise<Conversation> {
    return this.anomalyGpt.conversation(await this.inputsFor(inspectionId), opts);
  }

  status(): AssistantStatus {
    const c = this.options.config;
    return {
      mode: c.mode,
      overrule: c.overrule,
      part: c.part,
      bundle: this.model ? `${this.model.manifest.id}@${this.model.manifest.version}` : null,
      loaded: this.model !== undefined,
      counters: { ...this.counters },
      fewShot: [...this.maps.entries()].filter(([, e]) => e.ready).map(([k]) => k),
      lastError: this.lastError,
    };
  }

  /** The vision path (ImageBind → map → prompt learner + llama_proj), keeping only the LLM's inputs. */
  private async analyse(image: ImageInput, fewShot?: FewShotMapper): Promise<LlmImageInputs> {
    const a = await this.anomalyGpt.analyse(image, fewShot);
    if (fewShot) this.counters.fewShotMaps++;
    return { imageToken: a.imageToken, prompts: a.prompts };
  }

  /**
   * The few-shot map of a recipe version: built in the background on first sight (a frame
   * arriving before it is ready gets the text-prototype map, never a wait on the hot path).
   */
  private mapEntry(recipe: RecipeRef): MapEntry {
    const key = `${recipe.id}@${recipe.version}`;
    const known = this.maps.get(key);
    if (known) return known;
    const entry: MapEntry = {
      built: this.buildMap(recipe, key).then((mapper) => {
        entry.ready = mapper;
      }),
    };
    this.maps.set(key, entry);
    return entry;
  }

  private async buildMap(recipe: RecipeRef, key: string): Promise<FewShotMapper | undefined> {
    const log = this.options.logger;
    try {
      const refs = await this.options.recipeReferences?.(recipe);
      if (!refs || refs.length === 0) {
        log.info({ recipe: key }, 'recipe keeps no reference images: the LLM sees the text-prototype map');
        return undefined;
      }
      const t0 = performance.now();
      const mapper = await this.anomalyGpt.fewShot(refs);
      log.info({ recipe: key, references: refs.length, ms: Math.round(performance.now() - t0) }, 'few-shot map ready (SPEC §4)');
      return mapper;
    } catch (e) {
      log.warn({ err: toError(e), recipe: key }, 'few-shot map failed; the LLM sees the text-prototype map');
      return undefined;
    }
  }

  /** One prefill → P(yes) (SPEC §6 input, verdict.ts). */
  private async llmVerdict(inspectionId: string, inputs: LlmImageInputs, visionMs: number): Promise<LlmVerdictResult> {
    const model = this.anomalyGpt;
    const v = await model.conversation(inputs).verdict(model.question);
    return { inspectionId, pYes: v.pYes, anomalous: v.pYes >= 0.5, visionMs, prefillMs: v.prefillMs };
  }

  /** Hot path and warm-up: analyse `image`, keep its inputs under `inspectionId`, then the verdict. */
  private async verdictOf(image: ImageInput, inspectionId?: string, fewShot?: FewShotMapper): Promise<LlmVerdictResult> {
    const t0 = performance.now();
    const inputs = await this.analyse(image, fewShot);
    const visionMs = performance.now() - t0;
    if (inspectionId) this.inputs.set(inspectionId, inputs);
    return this.llmVerdict(inspectionId ?? '', inputs, visionMs);
  }
}

/**
 * Whether the LLM's answer is the decision: always under `both`; under `pass-to-fail` only
 * when it fails a part the judge passed (stricter, never more lenient); never under `never`.
 */
function llmDecides(policy: OverrulePolicy, judgePass: boolean, llmPass: boolean): boolean {
  return policy === 'both' || (policy === 'pass-to-fail' && judgePass && !llmPass);
}

/** Frames are views of OpenCV buffers that the camera recycles: a kept frame is a copy. */
function copyFrame(f: Frame): ImageInput {
  return { data: f.data.slice(), width: f.width, height: f.height, channels: f.channels };
}
