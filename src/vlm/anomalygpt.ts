/**
 * An AnomalyGPT bundle loaded for one part: image → ImageBind pixels → encoder → anomaly map
 * (unsupervised, or few-shot when references are given) → prompt learner + llama_proj → LLM
 * input (SPEC §6) → threshold-free verdict and, on request, the answer and a dialogue.
 * Everything that can be wrong with the bundle or the configuration fails in `load`:
 * missing/altered files, wrong shapes (dry run), a tokenizer that does not match the LLM,
 * an unknown part, a question that leaves no room for the answer in the context.
 */
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { AppError, ErrorCodes } from '../errors.js';
import { openSession, type ExecutionProviderName } from '../inference/ort-session.js';
import { loadLlmBundle, type LlmBundle } from './llm/llm-bundle.js';
import { readAnomalyGptManifest, readDecoder, readPartPrototypes, verifyFiles, type PartPrototypes } from './bundle-reader.js';
import { Conversation, type ConversationOptions } from './conversation.js';
import { assemblePrefix, prefixLength, prefixTokens, questionTokens, type PrefixTokens } from './llm-input.js';
import { dimsOf, type AnomalyGptDims, type AnomalyGptManifest } from './manifest.js';
import { buildUnsupervisedMapGraph } from './map-graphs.js';
import { imageBindPixels } from './pil-resize.js';
import { anomalyQuestion } from './prompt-format.js';
import { verdictTokens, type VerdictTokens } from './yes-no.js';
import { AnomalyGptVision, type EncodedImage, type FewShotMapper } from './vision.js';

export interface LoadAnomalyGptOptions {
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** The inspected part; resolved exactly against the prototype table (class-names.ts). */
  readonly partName: string;
  /** Default: the test scripts' description + "Is there any anomaly in the image?" (SPEC §6). */
  readonly question?: string;
  /** Answer budget checked against the context at load. Default 64. */
  readonly maxAnswerTokens?: number;
  readonly executionProviders?: readonly ExecutionProviderName[];
  readonly intraOpThreads?: number;
  /** false skips the sha256 pass. */
  readonly verify?: boolean;
}

/** 8-bit interleaved pixels as OpenCV delivers them (BGR or grey); a Frame fits. */
export interface ImageInput {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
}

export interface Analysis {
  readonly encoded: EncodedImage;
  /** [S·S]: the unsupervised map, or the few-shot map when a mapper was given (SPEC §4: it replaces it). */
  readonly map: Float32Array;
  readonly mode: 'unsupervised' | 'few-shot';
  /** [H] and [18·H]. */
  readonly imageToken: Float32Array;
  readonly prompts: Float32Array;
  readonly ms: { readonly preprocess: number; readonly encoder: number; readonly map: number; readonly prompts: number };
}

/** What the LLM side needs of an analysed image (SPEC §6 segments 3 and 5). */
export type LlmImageInputs = Pick<Analysis, 'imageToken' | 'prompts'>;

export class AnomalyGpt {
  private constructor(
    readonly manifest: AnomalyGptManifest,
    readonly dims: AnomalyGptDims,
    readonly part: PartPrototypes,
    readonly question: string,
    readonly vision: AnomalyGptVision,
    readonly llm: LlmBundle,
    readonly prefixTokens: PrefixTokens,
    readonly verdictTokens: VerdictTokens,
  ) {}

  static async load(dir: string, opts: LoadAnomalyGptOptions): Promise<AnomalyGpt> {
    const root = resolve(dir);
    const m = await readAnomalyGptManifest(root);
    await verifyFiles(root, m, opts.verify ?? true);
    const dims = dimsOf(m);
    const part = await readPartPrototypes(root, m, opts.partName);
    const decoder = await readDecoder(root, m);
    const settings = { logger: opts.logger, executionProviders: opts.executionProviders ?? ['cpu'], intraOpThreads: opts.intraOpThreads ?? 0 };

    const llm = await loadLlmBundle(join(root, m.llm.dir), { ...settings, verify: opts.verify ?? true });
    const opened: { release(): Promise<void> }[] = [llm];
    try {
      if (llm.manifest.config.hidden !== dims.hidden) {
        throw new AppError(ErrorCodes.MODEL_SHAPE, `bundle ${m.id}: the LLM's hidden size ${llm.manifest.config.hidden} is not the declared ${dims.hidden}`);
      }
      const open = async (model: string | Uint8Array) => {
        const s = (await openSession(model, settings, opts.logger)).session;
        opened.push(s);
        return s;
      };
      const geo = { grid: dims.grid, size: dims.size, width: dims.width };
      const vision = new AnomalyGptVision(
        dims,
        await open(join(root, m.encoder.file)),
        await open(buildUnsupervisedMapGraph(geo, decoder, part.normal, part.abnormal, m.decoder.temperature)),
        await open(join(root, m.promptLearner.file)),
        await open(join(root, m.llamaProj.file)),
        settings,
      );
      await vision.checkShapes();
      const tokens = prefixTokens(llm.tokenizer);
      const vt = verdictTokens(llm.tokenizer, m.verdict);
      const question = opts.question ?? anomalyQuestion(part.name);
      const needed = prefixLength(tokens, dims.prompts) + questionTokens(llm.tokenizer, question).length + (opts.maxAnswerTokens ?? 64);
      if (needed > llm.manifest.config.contextLength) {
        throw new AppError(ErrorCodes.LLM_CONTEXT, `bundle ${m.id}: the question needs ${needed} positions with its answer budget, the LLM's context is ${llm.manifest.config.contextLength}`, {
          details: { needed, contextLength: llm.manifest.config.contextLength },
        });
      }
      return new AnomalyGpt(m, dims, part, question, vision, llm, tokens, vt);
    } catch (e) {
      for (const s of opened.reverse()) await s.release().catch(() => undefined);
      throw e;
    }
  }

  /** SPEC §1: CLIP-normalised NCHW RGB [3, S, S] through PIL-bicubic resize and centre crop. */
  pixels(image: ImageInput, out?: Float32Array): Float32Array {
    const { size, mean, std, resize } = this.manifest.image;
    return imageBindPixels(image.data, image.width, image.height, image.channels, { size, resize, mean, std }, out);
  }

  /** Normal references → few-shot mapper (SPEC §4; short-side + crop preprocessing as the seed). */
  async fewShot(references: readonly ImageInput[]): Promise<FewShotMapper> {
    const encoded: EncodedImage[] = [];
    for (const r of references) encoded.push(await this.vision.encode(this.pixels(r)));
    return this.vision.fewShotMapper(encoded);
  }

  /** The vision path: everything up to the LLM's inputs. */
  async analyse(image: ImageInput, fewShot?: FewShotMapper): Promise<Analysis> {
    const t0 = performance.now();
    const pixel = this.pixels(image);
    const t1 = performance.now();
    const encoded = await this.vision.encode(pixel);
    const t2 = performance.now();
    const map = fewShot ? await fewShot.map(encoded.taps) : await this.vision.unsupervisedMap(encoded.taps);
    const t3 = performance.now();
    const [prompts, imageToken] = [await this.vision.prompts(map), await this.vision.imageToken(encoded.imgEmb)];
    const t4 = performance.now();
    return { encoded, map, mode: fewShot ? 'few-shot' : 'unsupervised', imageToken, prompts, ms: { preprocess: t1 - t0, encoder: t2 - t1, map: t3 - t2, prompts: t4 - t3 } };
  }

  /** The LLM side for one analysed image: verdict, answers, dialogue (prefix cache shared). */
  conversation(a: LlmImageInputs, opts: ConversationOptions = {}): Conversation {
    const prefix = assemblePrefix(this.llm.embeddings, this.prefixTokens, a.imageToken, a.prompts);
    return new Conversation(
      { decoder: this.llm.decoder, generator: this.llm.generator, tokenizer: this.llm.tokenizer, verdictTokens: this.verdictTokens, prefix },
      opts,
    );
  }

  async release(): Promise<void> {
    await this.vision.release();
    await this.llm.release();
  }
}
