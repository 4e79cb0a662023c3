// The review panel of one inspection (issue 10 item 4; docs/http-api.md "Review the verdict,
// teach the recipe"): on a fail "Good part — false reject" teaches the recipe (a new version,
// swapped in at once, the same frame judged again), on a pass "Missed defect" keeps the frame
// as labelled defect evidence. Shows who reviewed it before, and offers the undo of the
// version a review made.

import { h, fmtScore, fmtTime, errorText } from './dom.js';

const short = (v) => String(v ?? '').slice(0, 8);

function reviewLine(r) {
  const what = r.action === 'undo'
    ? `undone by ${r.user}: recipe ${r.recipeId} back to ${short(r.toVersion)}`
    : r.label === 'good'
      ? `marked good (false reject) by ${r.user}: recipe ${r.recipeId} ${short(r.fromVersion)} → ${short(r.toVersion)}`
      : `marked missed defect by ${r.user}: kept as defect evidence of ${r.recipeId}`;
  return h('li', { dataset: { review: r.id } }, `${fmtTime(r.at, true)} · ${what}${r.undone ? ' (undone)' : ''}${r.note ? ` — “${r.note}”` : ''}`);
}

/** The panel; `s` is the InspectionSummary, `reviews` the stored ones. */
export function reviewPanel(s, reviews, ctx) {
  const active = (reviews ?? []).find((r) => r.action === 'review' && !r.undone);
  const list = h('ul.reviews', (reviews ?? []).map(reviewLine));
  const msg = h('p.notice', { role: 'status', hidden: true });
  const note = h('input.input', { 'aria-label': 'note', placeholder: 'note (optional)', maxlength: 500 });
  const label = s.pass ? 'defect' : 'good';
  const markBtn = h('button.btn.btn-primary', { type: 'button' }, s.pass ? 'Missed defect' : 'Good part — false reject');
  const undoBtn = h('button.btn', { type: 'button', hidden: true }, 'Undo');
  const busy = (on) => {
    markBtn.disabled = on;
    undoBtn.disabled = on;
  };
  const show = (kind, text) => {
    msg.className = `notice ${kind}`;
    msg.textContent = text;
    msg.hidden = false;
  };
  let undoRecipe = active && active.toVersion ? active.recipeId : null;
  if (active) {
    markBtn.disabled = true;
    markBtn.title = `already reviewed by ${active.user}`;
  }
  undoBtn.hidden = !undoRecipe;

  markBtn.addEventListener('click', async () => {
    busy(true);
    show('info', s.pass ? 'Keeping the frame as defect evidence…' : 'Teaching the recipe this part…');
    try {
      const r = await ctx.api.send('POST', `/api/inspections/${encodeURIComponent(s.id)}/review`, { label, ...(note.value.trim() ? { note: note.value.trim() } : {}) });
      list.append(reviewLine(r.review));
      if (r.recipe) {
        show('info', `Recipe ${r.recipe.id} is now version ${short(r.recipe.version)} (was ${short(r.recipe.previousVersion)}). This frame judged again: ${r.rescored.pass ? 'PASS' : 'FAIL'} (score ${fmtScore(r.rescored.score)} / boundary ${fmtScore(r.rescored.threshold)}).`);
        undoRecipe = r.recipe.id;
        undoBtn.hidden = false;
        undoBtn.disabled = false;
      } else {
        show('info', `Kept as defect evidence of recipe ${r.review.recipeId}.`);
      }
      markBtn.disabled = true;
    } catch (e) {
      show('error', `Not marked: ${errorText(e)}`);
      // A conflict: someone else was first; their mark stands.
      markBtn.disabled = e.code === 'E_REVIEW_CONFLICT';
      undoBtn.disabled = false;
    }
  });

  undoBtn.addEventListener('click', async () => {
    busy(true);
    try {
      const r = await ctx.api.send('POST', `/api/recipes/${encodeURIComponent(undoRecipe)}/undo`);
      list.append(reviewLine(r.review));
      show('info', `Undone: recipe ${r.recipe.id} is back to version ${short(r.recipe.version)}.`);
      undoBtn.hidden = true;
      markBtn.disabled = r.undone.inspectionId !== s.id;
    } catch (e) {
      show('error', `Not undone: ${errorText(e)}`);
      busy(false);
    }
  });

  return h('section.panel', { 'aria-label': 'review' },
    h('h2', 'Review'),
    h('p.small.muted', s.pass
      ? 'The judge passed this part. If it is defective, mark it: the frame is kept as defect evidence of the recipe.'
      : 'The judge failed this part. If it is a good part, mark it: the recipe learns it at once (a new version; the old one is kept).'),
    h('div.filters', note, markBtn, undoBtn),
    msg,
    list);
}
