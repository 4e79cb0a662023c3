/**
 * CPU latency of the tiny AnomalyGPT bundle, per stage, medians over N runs: the vision-only
 * path (preprocess, encoder, map) against the LLM verdict (prompt learner + llama_proj, then
 * one prefill and two logits), and one greedy answer.
 *
 *   node dist-tools/tools/bench/bench-tiny.js [image.png] [--runs 30] [--threads 1]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnomalyGpt, type ImageInput } from '../../src/vlm/anomalygpt.js';
import { readImageFile } from '../../src/capture/image-io.js';
import { ProceduralPart } from '../../src/capture/sim/procedural-part.js';
import { createLogger } from '../../src/log.js';
import { createRng } from '../../src/util/prng.js';
import { buildTinyBundle } from '../fixtures/anomalygpt/build-tiny-bundle.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, def: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : def);
  const runs = opt('--runs', 30);
  const threads = opt('--threads', 1);
  const imagePath = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  let image: ImageInput;
  if (imagePath) {
    const mat = await readImageFile(imagePath);
    image = { data: new Uint8Array(mat.getData()), width: mat.cols, height: mat.rows, channels: mat.channels as 1 | 3 };
  } else {
    const mat = new ProceduralPart(11, 320, 240).render(createRng(1)).image;
    image = { data: new Uint8Array(mat.getData()), width: mat.cols, height: mat.rows, channels: 3 };
  }
  const dir = await mkdtemp(join(tmpdir(), 'agpt-tiny-'));
  try {
    await buildTinyBundle(dir);
    const model = await AnomalyGpt.load(dir, { logger: createLogger({ level: 'silent' }), partName: 'bottle', intraOpThreads: threads });
    const t: Record<string, number[]> = { preprocess: [], encoder: [], map: [], visionOnly: [], promptsProj: [], verdictPrefill: [], verdictTotal: [], answer12: [] };
    let positions = 0;
    for (let i = 0; i < runs + 3; i++) {
      const a = await model.analyse(image);
      const conv = model.conversation(a);
      const t0 = performance.now();
      const v = await conv.verdict(model.question);
      const t1 = performance.now();
      const ans = await model.conversation(a, { maxAnswerTokens: 12 }).ask(model.question);
      if (i < 3) continue; // warm-up
      positions = v.fedPositions;
      t.preprocess.push(a.ms.preprocess);
      t.encoder.push(a.ms.encoder);
      t.map.push(a.ms.map);
      t.visionOnly.push(a.ms.preprocess + a.ms.encoder + a.ms.map);
      t.promptsProj.push(a.ms.prompts);
      t.verdictPrefill.push(v.prefillMs);
      t.verdictTotal.push(a.ms.prompts + (t1 - t0));
      t.answer12.push(ans.prefill.ms + ans.decodeMs);
    }
    console.log(`tiny bundle, ${image.width}×${image.height} image, ${threads} intra-op thread(s), ${runs} runs, verdict prefill of ${positions} positions`);
    for (const [k, v] of Object.entries(t)) console.log(`${k.padEnd(16)} median ${median(v).toFixed(2)} ms   (min ${Math.min(...v).toFixed(2)}, max ${Math.max(...v).toFixed(2)})`);
    await model.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
