// Ask about an inspection (issue 10 item 3): a multi-turn conversation bound to one inspection,
// answers streamed token by token (docs/http-api.md "Ask about an inspection"). The panel says
// plainly where answers come from: a language model, or — mode 'grounded' — the inspection
// record itself, with no model loaded.

import { h, errorText } from './dom.js';

const SUGGESTIONS = ['Why did it fail?', 'Where is the defect?', 'How confident is it?', 'Is there any anomaly in the image?', 'How does it compare with recent passes?'];

export function chatPanel(inspectionId, ctx) {
  const note = h('div.chat-mode', 'Checking which assistant answers…');
  const log = h('div.chat-log', { 'aria-live': 'polite', 'aria-label': 'conversation' });
  const input = h('textarea.input', { rows: 2, placeholder: 'Ask about this inspection…', 'aria-label': 'question', maxlength: 2000 });
  const sendBtn = h('button.btn.btn-primary', { type: 'submit' }, 'Ask');
  const stopBtn = h('button.btn', { type: 'button', hidden: true }, 'Stop');
  const suggest = h('div.suggest', SUGGESTIONS.map((q) => h('button.btn', { type: 'button', onclick: () => void ask(q) }, q)));
  const form = h('form.chat-form', { onsubmit: (e) => { e.preventDefault(); void ask(input.value); } }, input, sendBtn, stopBtn);
  const el = h('section.panel.chat', { 'aria-label': 'ask about this inspection' }, h('h2', 'Ask about this inspection'), note, log, suggest, form);
  let conversation = null;
  let busy = false;
  let abort = null;
  let unavailable = false;

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      void ask(input.value);
    }
  });
  stopBtn.addEventListener('click', () => abort?.abort());

  const showMode = (a) => {
    if (a.mode === 'grounded') {
      note.textContent = 'No language model is loaded — answers come from the inspection record.';
    } else if (a.mode === 'llm') {
      const m = a.model ? ` (${a.model.id}${a.model.version ? ` ${a.model.version}` : ''})` : '';
      note.textContent = `Answers come from the AnomalyGPT language model${m}. It can be wrong: the verdict above is what the line acted on.`;
    } else {
      note.textContent = 'No assistant is configured on this daemon (no AnomalyGPT bundle, no grounded answerer).';
      note.className = 'chat-mode warn';
    }
    note.dataset.mode = a.mode;
  };
  ctx.api.getJson('/api/assistant').then(showMode).catch(async (e) => {
    if (e.status !== 404) {
      note.textContent = `Assistant status unknown: ${errorText(e)}`;
      return;
    }
    // A daemon without GET /api/assistant: the AnomalyGPT assistant shows in /status when loaded.
    const st = await ctx.api.getJson('/status').catch(() => ({}));
    const b = typeof st.assistant?.bundle === 'string' ? st.assistant.bundle.split('@') : null;
    showMode(st.assistant ? { mode: 'llm', ...(b ? { model: { id: b[0], version: b[1] ?? '' } } : {}) } : { mode: 'none' });
  });

  function setBusy(b) {
    busy = b;
    sendBtn.disabled = b || unavailable;
    stopBtn.hidden = !b;
    suggest.querySelectorAll('button').forEach((x) => (x.disabled = b || unavailable));
  }

  function say(cls, text) {
    const m = h(`div.msg.${cls}`, text);
    log.append(m);
    log.scrollTop = log.scrollHeight;
    return m;
  }

  function markUnavailable(message) {
    unavailable = true;
    note.className = 'chat-mode warn';
    note.textContent = message;
    input.disabled = true;
    setBusy(false);
  }

  async function open() {
    try {
      conversation = await ctx.api.send('POST', `/api/inspections/${encodeURIComponent(inspectionId)}/conversations`);
    } catch (e) {
      if (e.code === 'E_NOT_FOUND') markUnavailable('The assistant is not available on this daemon (no dialogue API).');
      throw e;
    }
  }

  async function ask(text) {
    const question = text.trim();
    if (!question || busy || unavailable) return;
    input.value = '';
    setBusy(true);
    say('q', question);
    const answer = say('a.streaming', '');
    const t0 = performance.now();
    let first = null;
    let tokens = 0;
    abort = new AbortController();
    try {
      if (!conversation) await open();
      const run = () => ctx.api.postStream(`/api/conversations/${encodeURIComponent(conversation.id)}/messages`, { question }, (event, data) => {
        if (event === 'token') {
          first ??= performance.now() - t0;
          tokens++;
          answer.textContent += data.text;
          log.scrollTop = log.scrollHeight;
        } else if (event === 'done') {
          if (typeof data.answer === 'string' && data.answer.trim() !== '') answer.textContent = data.answer;
        } else if (event === 'error') {
          throw Object.assign(new Error(data.message), { code: data.code });
        }
      }, { signal: abort.signal });
      try {
        await run();
      } catch (e) {
        // A conversation that expired (idle) is opened again; its earlier turns are gone.
        if (e.code !== 'E_CONVERSATION_UNKNOWN') throw e;
        await open();
        answer.textContent = '';
        await run();
      }
      answer.classList.remove('streaming');
      answer.append(h('span.meta', `${tokens} tokens · first after ${first === null ? '—' : Math.round(first)} ms · ${Math.round(performance.now() - t0)} ms`));
    } catch (e) {
      answer.classList.remove('streaming');
      if (e.name === 'AbortError') {
        answer.append(h('span.meta', 'stopped'));
      } else {
        if (!answer.textContent) answer.remove();
        const text = e.code === 'E_LLM_BUSY' || e.code === 'E_RATE_LIMITED' ? `Busy: ${e.message}. Try again in a moment.` : errorText(e);
        say('err', text);
      }
    } finally {
      abort = null;
      setBusy(false);
      if (!unavailable) input.focus();
    }
  }

  return {
    el,
    close() {
      abort?.abort();
      if (conversation) void ctx.api.send('DELETE', `/api/conversations/${encodeURIComponent(conversation.id)}`).catch(() => undefined);
    },
  };
}
