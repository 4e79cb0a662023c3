import t from 'tap';
import { PixelAurocAccumulator, auroc, rocCurve } from '../../src/eval/metrics.js';
import { rocPlotSvg } from '../../src/eval/roc-plot.js';

t.test('one path per curve, legend with AUROC, diagonal, escaped text', async (t) => {
  const labels = [0, 0, 1, 1] as Array<0 | 1>;
  const s1 = [0.1, 0.4, 0.35, 0.8];
  const c1 = rocCurve(s1, labels);
  const c2 = rocCurve([0.1, 0.2, 0.8, 0.9], labels);
  const svg = rocPlotSvg([
    { label: 'image <bottle>', ...c1, auroc: auroc(s1, labels) },
    { label: 'pixel & co', ...c2, auroc: 1 },
  ], 'ROC "k=1"');
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /<\/svg>$/);
  const paths = svg.match(/<path class="roc" d="[^"]+"/g) ?? [];
  t.equal(paths.length, 2);
  // Curve 1 visits (0,0) (0,.5) (.5,.5) (.5,1) (1,1): 5 points in a 360-px plot at (56,40).
  t.equal(paths[0], '<path class="roc" d="M56,400 L56,220 L236,220 L236,40 L416,40"');
  t.match(svg, /class="chance"/);
  t.match(svg, /image &lt;bottle&gt; \(AUROC 0\.750\)/);
  t.match(svg, /pixel &amp; co \(AUROC 1\.000\)/);
  t.match(svg, /ROC &quot;k=1&quot;/);
  t.notMatch(svg, /<bottle>/);
});

t.test('a 65 536-point pixel curve stays small', async (t) => {
  const acc = new PixelAurocAccumulator({ min: 0, max: 1 });
  const scores = new Float32Array(200_000);
  const truth = new Uint8Array(200_000);
  for (let i = 0; i < scores.length; i++) {
    truth[i] = i % 10 === 0 ? 255 : 0;
    scores[i] = ((i * 2654435761) % 1_000_003) / 1_000_003 * 0.7 + (truth[i] ? 0.3 : 0);
  }
  acc.add(scores, truth);
  const curve = acc.curve({ dropIntermediate: false });
  t.ok(curve.fpr.length > 10_000, `curve has ${curve.fpr.length} points`);
  const svg = rocPlotSvg([{ label: 'pixel', ...curve, auroc: acc.auroc() }], 'pixel ROC');
  t.ok(svg.length < 15_000, `svg is ${svg.length} chars`);
  t.equal((svg.match(/<path class="roc"/g) ?? []).length, 1);
});

t.test('no curves still draws axes; NaN AUROC shows n/a', async (t) => {
  t.match(rocPlotSvg([], 'empty'), /False positive rate/);
  t.match(rocPlotSvg([{ label: 'x', fpr: [0, 1], tpr: [0, 1], auroc: Number.NaN }], 't'), /AUROC n\/a/);
});
