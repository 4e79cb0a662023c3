// The console's entry point: who is signed in (or the sign-in form when the daemon is not on
// loopback), the navigation, the one live event stream every view listens to, and the router.

import * as api from './api.js';
import { h, errorText } from './dom.js';
import { Router } from './router.js';
import { views, home } from './views/index.js';
import * as signin from './views/signin.js';

const listeners = new Map();
/** ctx.on(event, fn) → unsubscribe: verdict, cameras, recipe, drift (docs/http-api.md). */
function on(event, fn) {
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
  return () => listeners.get(event)?.delete(fn);
}
function emit(event, data) {
  for (const fn of listeners.get(event) ?? []) {
    try {
      fn(data);
    } catch (e) {
      console.error(e);
    }
  }
}

const root = document.getElementById('view');
const linkEl = document.getElementById('link');
const whoEl = document.getElementById('who');
const signoutBtn = document.getElementById('signout');
const navEl = document.getElementById('nav');
const ctx = { api, on, session: null };
const router = new Router(root, ctx);
for (const v of views) router.add(v);
router.add(signin);
router.fallback = home;
let closeEvents = null;

function setLink(state, text) {
  linkEl.dataset.state = state;
  linkEl.textContent = text ?? { live: 'live', lost: 'reconnecting…', connecting: 'connecting…', off: 'signed out' }[state];
}

function startEvents() {
  closeEvents?.();
  setLink('connecting');
  closeEvents = api.liveEvents(
    { verdict: (d) => emit('verdict', d), cameras: (d) => emit('cameras', d), recipe: (d) => emit('recipe', d), drift: (d) => emit('drift', d) },
    (state) => {
      if (state !== 'closed') return setLink(state);
      setLink('lost');
      // The stream was refused: signed out (idle session, daemon restarted) or a fault.
      setTimeout(async () => {
        const session = await api.loadSession().catch(() => undefined);
        if (session === null) void needSignIn();
        else startEvents();
      }, 2000);
    },
  );
}

function renderNav(active) {
  if (!ctx.session) {
    navEl.replaceChildren();
    return;
  }
  navEl.replaceChildren(
    ...views.filter((v) => v.nav).map((v) => h('a', { href: `#/${v.name}`, 'aria-current': v.name === active || (active === 'inspection' && v.name === 'history') ? 'page' : null }, v.title)),
  );
}
router.onChange = renderNav;

function showUser(session) {
  ctx.session = session;
  whoEl.textContent = session ? `${session.user} · ${session.role}` : '';
  signoutBtn.hidden = !session || !session.authRequired;
}

async function needSignIn() {
  closeEvents?.();
  closeEvents = null;
  setLink('off');
  showUser(null);
  if (router.parts()[0] !== 'signin') {
    sessionStorage.setItem('agpt.after', location.hash || `#/${home}`);
    location.hash = '#/signin';
  } else {
    router.render();
  }
}

ctx.signedIn = (session) => {
  showUser(session);
  startEvents();
  location.hash = sessionStorage.getItem('agpt.after') || `#/${home}`;
  sessionStorage.removeItem('agpt.after');
};

api.onUnauthorized(() => void needSignIn());
signoutBtn.addEventListener('click', async () => {
  await api.signOut();
  await needSignIn();
});

async function boot() {
  try {
    const session = await api.loadSession();
    if (!session) return needSignIn();
    showUser(session);
    startEvents();
    if (router.parts()[0] === 'signin' || !location.hash) location.hash = `#/${home}`;
    router.render();
  } catch (e) {
    root.replaceChildren(h('p.notice.error', `Cannot reach the daemon: ${errorText(e)}`));
    setLink('lost', 'no daemon');
  }
}

void boot();
