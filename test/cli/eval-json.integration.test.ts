/**
 * `eval --json <state>/eval/latest.json`: the report the console's Numbers page plots —
 * schema, time, the summary figures and each draw's image ROC (monotone, from (0,0) to (1,1),
 * AUROC equal to the draw's figure). Real engine, simulator-rendered images.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evalCommand } from '../../src/cli/eval-command.js';
import { silentLogger } from '../support/logger.js';
import { simDataset } from '../support/sim-dataset.js';

t.test('eval --json writes the ROC of every draw, in a folder it creates', async (t) => {
  const dir = t.testdir({});
  const data = await simDataset(dir);
  const out = join(dir, 'state', 'eval', 'latest.json');
  const code = await evalCommand([data, '--shots', '1', '--draws', '2', '--json', out, '--threads', '1'], silentLogger());
  t.equal(code, 0);
  const r = JSON.parse(readFileSync(out, 'utf8'));
  t.match(r, { schema: 'anomalygpt-edge/eval@1', createdAt: /^\d{4}-\d\d-\d\dT/, shots: 1, draws: 2, bundle: { id: String } });
  t.equal(r.categories.length, 1);
  const c = r.categories[0];
  t.equal(c.roc.length, 2, 'one curve per draw');
  for (const d of c.roc) {
    t.equal(d.fpr.length, d.tpr.length);
    t.same([d.fpr[0], d.tpr[0]], [0, 0], 'starts at (0, 0)');
    t.same([d.fpr[d.fpr.length - 1], d.tpr[d.tpr.length - 1]], [1, 1], 'ends at (1, 1)');
    t.ok(d.fpr.every((x: number, i: number) => i === 0 || x >= d.fpr[i - 1]), 'fpr is monotone');
    let area = 0;
    for (let i = 1; i < d.fpr.length; i++) area += (d.fpr[i] - d.fpr[i - 1]) * (d.tpr[i] + d.tpr[i - 1]) / 2;
    t.ok(Math.abs(area - d.auroc) < 2e-3, `trapezoid area ${area.toFixed(4)} = the draw's AUROC ${d.auroc.toFixed(4)}`);
  }
  t.ok(Math.abs((c.roc[0].auroc + c.roc[1].auroc) / 2 - c.image_auroc.mean) < 1e-9, 'the mean of the draws');
});
