// Status (issue 10 item 7): the daemon's /status document for people — cameras and their
// states (and, for engineers, the recipe switch: PUT /api/cameras/{id}/recipe, the same path
// as OPC UA SelectRecipe), model bundle and execution provider, OPC UA sessions, MQTT
// connection and queue, the record's size, disk and losses, sinks, drift, failures.

import { h, fmtBytes, fmtDuration, fmtMs, fmtAgo, driftClass, stateClass, errorText } from '../dom.js';

export const name = 'status';
export const title = 'Status';
export const nav = true;

const kv = (pairs) => h('dl.kv', pairs.filter(Boolean).flatMap(([k, v]) => [h('dt', k), h('dd', v ?? '—')]));

export function mount(root, _params, ctx) {
  const abort = new AbortController();
  const body = h('div.status-grid');
  const msg = h('p.notice.error', { hidden: true });
  const recipeMsg = h('p.notice', { hidden: true, role: 'status' });
  root.append(h('div.view-head', h('h1', 'Status'), h('span.muted', 'refreshed every 2 s')), msg, recipeMsg, body);
  const engineer = ctx.session?.role === 'engineer';
  // The recipe switch (engineers): outside the refreshed part, so typing is never interrupted.
  const camSel = h('select', { 'aria-label': 'camera' });
  const recipeIn = h('input.input', { 'aria-label': 'recipe id', placeholder: 'recipe id', size: 14, required: true });
  const switchBtn = h('button.btn.btn-primary', { type: 'submit' }, 'Switch recipe');
  const switcher = h('form.filters', { hidden: !engineer, 'aria-label': 'switch recipe', onsubmit: (e) => { e.preventDefault(); void switchRecipe(camSel.value, recipeIn, switchBtn); } },
    h('label.field', 'Camera', camSel), h('label.field', 'Recipe', recipeIn), switchBtn,
    h('span.small.muted', { style: 'align-self:center' }, 'the same control path as OPC UA SelectRecipe and MQTT cmd/recipe'));
  const camBody = h('tbody');
  const camPanel = h('section.panel', { style: 'margin-bottom:1rem' }, h('h2', 'Cameras'),
    h('div.table-wrap', h('table.data',
      h('thead', h('tr', ['Camera', 'State', 'Trigger', 'Recipe', 'Insp / pass / fail', 'Dropped / errors', 'p50 / p99 ms', 'Last error'].map((t) => h('th', t)))),
      camBody)),
    h('div', { style: 'margin-top:0.75rem' }, switcher));
  root.insertBefore(camPanel, body);
  let camerasKnown = '';

  async function switchRecipe(cameraId, input, button) {
    const recipe = input.value.trim();
    if (!recipe || !cameraId) return;
    button.disabled = true;
    try {
      const r = await ctx.api.send('PUT', `/api/cameras/${encodeURIComponent(cameraId)}/recipe`, { recipe });
      recipeMsg.className = 'notice info';
      recipeMsg.textContent = `Camera ${cameraId} now inspects with recipe ${r.recipe.id} (${String(r.recipe.version).slice(0, 8)}).`;
    } catch (e) {
      recipeMsg.className = 'notice error';
      recipeMsg.textContent = `Recipe not switched on ${cameraId}: ${errorText(e)}`;
    } finally {
      recipeMsg.hidden = false;
      button.disabled = false;
      void refresh();
    }
  }

  function cameraRows(st) {
    const ids = Object.keys(st.cameras).join('\0');
    if (ids !== camerasKnown) {
      camerasKnown = ids;
      camSel.replaceChildren(...Object.keys(st.cameras).map((id) => h('option', { value: id }, id)));
    }
    return Object.entries(st.cameras).map(([id, c]) => {
      const n = c.counters;
      return h('tr', { dataset: { camera: id } },
        h('td', h('b', id)),
        h('td', h(`span.dot.${stateClass(c.camera.state) || 'x'}`), ' ', c.camera.state),
        h('td', `${c.trigger.mode}${c.trigger.mode === 'free-run' ? ` ${c.trigger.fps || 'max'} fps` : ''}`),
        h('td', `${c.recipe.id} · ${String(c.recipe.version ?? '').slice(0, 8)}`),
        h('td.num', `${n.inspected} / ${n.passed} / ${n.failed}`),
        h('td.num', `${n.dropped} / ${n.errors}`),
        h('td.num', `${fmtMs(c.timings.p50TotalMs)} / ${fmtMs(c.timings.p99TotalMs)}`),
        h('td.wrap', c.lastError ? `${c.lastError.code ?? ''} ${c.lastError.message} (${fmtAgo(c.lastError.at)})` : '—'));
    });
  }

  function render(st) {
    const outs = st.outputs ?? {};
    const op = outs.opcua;
    const mq = outs.mqtt;
    const ar = st.archive;
    const disk = st.disk;
    const used = disk ? 1 - disk.freeBytes / disk.totalBytes : null;
    camBody.replaceChildren(...cameraRows(st));
    body.replaceChildren(
      h('section.panel', h('h2', 'Daemon'), kv([
        ['state', `${st.state}${st.ready ? ' · ready' : ''}`],
        ['uptime', fmtDuration(st.uptimeS)],
        ['ready after', st.readyAfterMs === null ? '—' : `${(st.readyAfterMs / 1000).toFixed(1)} s`],
        ['model bundle', st.bundle ? `${st.bundle.id} · ${st.bundle.version}` : '—'],
        ['execution provider', st.provider ?? '—'],
        ['page access', st.http ? (st.http.authRequired ? `sign-in required (${st.http.host}) · ${st.http.sessions} session(s)` : `loopback only (${st.http.host})`) : '—'],
        st.assistant ? ['assistant', `${st.assistant.bundle ?? '—'} · LLM verdicts: ${st.assistant.mode}`] : null,
        ['watchdog', st.watchdog.enabled ? `${st.watchdog.pings} pings${st.watchdog.stalled.length ? ` · stalled: ${st.watchdog.stalled.join(', ')}` : ''}` : 'off'],
      ])),
      h('section.panel', h('h2', 'OPC UA'), op ? kv([
        ['endpoint', op.endpoint],
        ['sessions', `${op.sessions} of ${op.maxSessions}`],
        ['subscriptions', String(op.subscriptions)],
      ]) : h('p.muted', 'OPC UA is off (opcua.enabled).')),
      h('section.panel', h('h2', 'MQTT'), mq ? kv([
        ['connection', h(`span.chip.${mq.connected ? 'ok' : 'bad'}`, mq.connected ? 'connected' : 'not connected')],
        ['queue', `${mq.queue?.length ?? 0} waiting · ${mq.queue?.dropped ?? 0} dropped`],
        ['connects', String(mq.connects)],
        mq.lastError ? ['last error', `${mq.lastError.message} (${fmtAgo(mq.lastError.at)})`] : null,
      ]) : h('p.muted', 'MQTT is off (mqtt.enabled).')),
      h('section.panel', h('h2', 'Inspection record'), kv([
        ['records', ar.records.toLocaleString()],
        ['size', fmtBytes(ar.bytes)],
        ['newest seq', String(ar.head)],
        ['waiting for commit', String(ar.pending)],
        ['write errors', h(ar.writeErrors ? 'span.chip.bad' : 'span', String(ar.writeErrors))],
        ['evicted (retention)', String(ar.evicted)],
        ['losses', Object.keys(ar.lost).length ? Object.entries(ar.lost).map(([k, v]) => `${k}: ${v}`).join(', ') : 'none'],
        ['disk', disk ? h('div', `${fmtBytes(disk.freeBytes)} free of ${fmtBytes(disk.totalBytes)}`, h('div.meter', h(`div${used > 0.9 ? '.high' : ''}`, { style: `width:${(used * 100).toFixed(1)}%` }))) : '—'],
      ])),
      h('section.panel', h('h2', 'Drift watch'), (st.drift ?? []).length ? kv(st.drift.map((d) => [
        `${d.recipe} · ${String(d.version).slice(0, 8)}`,
        h('div', h(`span.chip.${driftClass(d.state) || 'x'}`, d.state === 'insufficient' ? 'insufficient' : `${d.state} · ${(d.margin * 100).toFixed(0)} %`),
          h('div.small.muted', d.state === 'insufficient' ? d.reason ?? '' : `of the margin left · ${d.passes} passes`)),
      ])) : h('p.muted', 'No verdicts yet.')),
      h('section.panel', h('h2', 'Sinks'), h('div.table-wrap', h('table.data',
        h('thead', h('tr', ['Sink', 'Published', 'Failed', 'Timed out', 'Skipped', 'Pending'].map((t) => h('th', t)))),
        h('tbody', Object.entries(st.sinks).map(([k, c]) => h('tr', h('td', k), h('td.num', c.published), h('td.num', c.failed), h('td.num', c.timedOut), h('td.num', c.skipped), h('td.num', c.pending))))))),
      st.failures.length ? h('section.panel', h('h2', 'Failures'), h('ul', st.failures.map((f) => h('li', `${f.component} (${f.phase}): ${f.code ?? ''} ${f.message}`)))) : '',
    );
  }

  async function refresh() {
    try {
      const st = await ctx.api.getJson('/status', { signal: abort.signal });
      msg.hidden = true;
      render(st);
    } catch (e) {
      if (e.name === 'AbortError') return;
      msg.textContent = errorText(e);
      msg.hidden = false;
    }
  }
  void refresh();
  const timer = setInterval(() => void refresh(), 2000);
  return () => {
    abort.abort();
    clearInterval(timer);
  };
}
