// The daemon's HTTP API for every view (docs/http-api.md): JSON fetches with the one error
// shape, state changes with the session's CSRF token, the live event stream (SSE) and
// streamed answers (SSE over a POST, which EventSource cannot do).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const state = { session: null, csrf: null, onUnauthorized: () => {} };

/** Called with no argument whenever the daemon answers 401 (sign-in needed). */
export function onUnauthorized(fn) {
  state.onUnauthorized = fn;
}

export function currentSession() {
  return state.session;
}

async function errorOf(res) {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, code, message);
}

async function check(res) {
  if (res.ok) return res;
  const err = await errorOf(res);
  if (res.status === 401) state.onUnauthorized();
  throw err;
}

/** GET /api/session: the caller and a CSRF token; null when sign-in is required. */
export async function loadSession() {
  const res = await fetch('/api/session', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (res.status === 401) {
    state.session = null;
    state.csrf = null;
    return null;
  }
  await check(res);
  state.session = await res.json();
  state.csrf = state.session.csrfToken;
  return state.session;
}

export async function signIn(username, password) {
  const res = await fetch('/api/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw await errorOf(res);
  state.session = await res.json();
  state.csrf = state.session.csrfToken;
  return state.session;
}

export async function signOut() {
  await send('DELETE', '/api/session').catch(() => undefined);
  state.session = null;
  state.csrf = null;
}

export async function getJson(path, options = {}) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin', signal: options.signal });
  await check(res);
  return res.json();
}

function headersFor(body, extra = {}) {
  const h = { accept: 'application/json', ...extra };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (state.csrf) h['x-csrf-token'] = state.csrf;
  return h;
}

/**
 * A state change (POST, PUT, DELETE) with the CSRF token. A refusal for a stale token (the
 * daemon restarted, the session expired) fetches a fresh session and tries once more.
 */
export async function send(method, path, body, options = {}) {
  const attempt = () =>
    fetch(path, {
      method,
      credentials: 'same-origin',
      headers: headersFor(body, options.headers),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options.signal,
    });
  let res = await attempt();
  if (res.status === 403 && path !== '/api/session') {
    const err = await errorOf(res.clone());
    if (/CSRF/i.test(err.message) && (await loadSession())) res = await attempt();
  }
  await check(res);
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  return type.includes('json') ? res.json() : res.text();
}

/**
 * POST a FormData (multipart: a recipe's images) with the CSRF token; the browser sets the
 * multipart Content-Type with its boundary.
 */
export async function sendForm(path, form, options = {}) {
  const attempt = () =>
    fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: state.csrf ? { accept: 'application/json', 'x-csrf-token': state.csrf } : { accept: 'application/json' },
      body: form,
      signal: options.signal,
    });
  let res = await attempt();
  if (res.status === 403) {
    const err = await errorOf(res.clone());
    if (/CSRF/i.test(err.message) && (await loadSession())) res = await attempt();
  }
  await check(res);
  return res.json();
}

/** URL of an inspection's image or record: kind = frame.jpg | mask.png | map.png | record.json. */
export function inspectionUrl(id, kind) {
  return `/api/inspections/${encodeURIComponent(id)}${kind ? `/${kind}` : ''}`;
}

/**
 * The live event stream. `handlers` maps event names (verdict, cameras, recipe, drift) to
 * functions of the parsed data; `onLink(state)` hears 'live' / 'lost'. EventSource reconnects
 * by itself; close() ends it.
 */
export function liveEvents(handlers, onLink = () => {}) {
  const es = new EventSource('/api/events');
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (e) => {
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      fn(data);
    });
  }
  es.onopen = () => onLink('live');
  // CONNECTING: the browser retries by itself (daemon restarting); CLOSED: it gave up (the
  // answer was not a stream — signed out, say) and the caller decides.
  es.onerror = () => onLink(es.readyState === EventSource.CLOSED ? 'closed' : 'lost');
  return () => es.close();
}

/**
 * POST that answers with Server-Sent Events (a streamed answer). Calls onEvent(name, data)
 * per event; resolves when the stream ends. JSON refusals (before the stream opens) reject
 * with ApiError, like send().
 */
export async function postStream(path, body, onEvent, options = {}) {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: headersFor(body, { accept: 'text/event-stream' }),
    body: JSON.stringify(body),
    signal: options.signal,
  });
  await check(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      let parsed;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        parsed = data.join('\n');
      }
      onEvent(name, parsed);
    }
  }
}
