/**
 * A self-contained ROC plot as SVG (no dependencies, no scripts, no external fonts), for the
 * evaluation report: axes with ticks, the chance diagonal, one path per curve, and a legend
 * with each curve's AUROC. Pure: imports nothing internal.
 */

export interface RocPlotCurve {
  readonly label: string;
  readonly fpr: ArrayLike<number>;
  readonly tpr: ArrayLike<number>;
  readonly auroc: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const SIZE = 360; // plot area, px
const M = { left: 56, right: 16, top: 40, bottom: 48 };

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const px = (v: number): number => M.left + v * SIZE;
const py = (v: number): number => M.top + (1 - v) * SIZE;
const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/**
 * Path data for one curve, simplified for size: a point closer than half a pixel to the last
 * one drawn is skipped, and so is the middle of a straight vertical or horizontal run (ROC
 * curves are monotone staircases, so nothing visible is lost). A pixel-level curve with
 * 65 536 points stays a few kilobytes.
 */
function pathData(fpr: ArrayLike<number>, tpr: ArrayLike<number>): string {
  const xs: number[] = [];
  const ys: number[] = [];
  const n = Math.min(fpr.length, tpr.length);
  for (let i = 0; i < n; i++) {
    const f = fpr[i];
    const t = tpr[i];
    if (!Number.isFinite(f) || !Number.isFinite(t)) continue;
    const x = px(Math.min(1, Math.max(0, f)));
    const y = py(Math.min(1, Math.max(0, t)));
    const k = xs.length - 1;
    if (k >= 0 && Math.abs(x - xs[k]) < 0.5 && Math.abs(y - ys[k]) < 0.5 && i !== n - 1) continue;
    // Extend a straight axis-aligned run instead of adding a point inside it.
    if (k >= 1 && ((x === xs[k] && x === xs[k - 1]) || (y === ys[k] && y === ys[k - 1]))) {
      xs[k] = x;
      ys[k] = y;
      continue;
    }
    xs.push(x);
    ys.push(y);
  }
  return xs.map((x, i) => `${i === 0 ? 'M' : 'L'}${r1(x)},${r1(ys[i])}`).join(' ');
}

export function rocPlotSvg(curves: readonly RocPlotCurve[], title: string): string {
  const W = M.left + SIZE + M.right;
  const legendRows = curves.length;
  const H = M.top + SIZE + M.bottom + legendRows * 18 + (legendRows > 0 ? 8 : 0);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);

  // Grid and ticks every 0.2.
  for (let k = 0; k <= 5; k++) {
    const v = k / 5;
    const label = v.toFixed(1);
    out.push(`<line x1="${r1(px(v))}" y1="${py(0)}" x2="${r1(px(v))}" y2="${py(1)}" stroke="#e5e5e5"/>`);
    out.push(`<line x1="${px(0)}" y1="${r1(py(v))}" x2="${px(1)}" y2="${r1(py(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${r1(px(v))}" y="${py(0) + 16}" text-anchor="middle">${label}</text>`);
    out.push(`<text x="${px(0) - 6}" y="${r1(py(v) + 4)}" text-anchor="end">${label}</text>`);
  }
  out.push(`<rect x="${px(0)}" y="${py(1)}" width="${SIZE}" height="${SIZE}" fill="none" stroke="#333333"/>`);
  out.push(`<line class="chance" x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#999999" stroke-dasharray="5,4"/>`);
  out.push(`<text x="${px(0.5)}" y="${py(0) + 36}" text-anchor="middle">False positive rate</text>`);
  out.push(`<text transform="translate(16 ${py(0.5)}) rotate(-90)" text-anchor="middle">True positive rate</text>`);

  curves.forEach((c, i) => {
    const colour = PALETTE[i % PALETTE.length];
    out.push(`<path class="roc" d="${pathData(c.fpr, c.tpr)}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round"/>`);
  });

  curves.forEach((c, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const y = M.top + SIZE + M.bottom + 4 + i * 18;
    const auc = Number.isFinite(c.auroc) ? c.auroc.toFixed(3) : 'n/a';
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + 24}" y2="${y}" stroke="${colour}" stroke-width="3"/>`);
    out.push(`<text x="${M.left + 32}" y="${y + 4}">${esc(c.label)} (AUROC ${auc})</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
