/**
 * A small MVTec-layout dataset rendered by the simulator (train/good, test/good, test/defect),
 * for tests that run `eval` end to end without the shared data sets.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeSimImages } from '../pipeline/helpers.js';

export async function simDataset(dir: string, name = 'sim-part'): Promise<string> {
  const cat = join(dir, name);
  for (const sub of ['train/good', 'test/good', 'test/defect']) mkdirSync(join(cat, sub), { recursive: true });
  await writeSimImages(join(cat, 'train/good'), [1, 2, 3], { seed: 11, clean: true });
  await writeSimImages(join(cat, 'test/good'), [4, 5, 6, 7, 8], { seed: 11, clean: true });
  const defects = await writeSimImages(join(cat, 'test/defect'), [9, 10, 11, 12, 13, 14, 15, 16], { seed: 11, defectRate: 1 });
  if (!defects.some((d) => d.label === 'defect')) throw new Error('the simulator rendered no defect');
  return cat;
}
