// Sign-in (only when the daemon listens beyond loopback): the OPC UA users and roles.
import { h, errorText } from '../dom.js';

export const name = 'signin';
export const title = 'Sign in';
export const nav = false;

export function mount(root, _params, ctx) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p.notice.error', { hidden: true, role: 'alert' });
  const btn = h('button.btn.btn-primary', { type: 'submit' }, 'Sign in');
  const form = h('form.signin.panel', {
    onsubmit: async (e) => {
      e.preventDefault();
      btn.disabled = true;
      msg.hidden = true;
      try {
        const s = await ctx.api.signIn(user.value, pass.value);
        ctx.signedIn(s);
      } catch (err) {
        msg.textContent = err.code === 'E_RATE_LIMITED' ? err.message : err.code === 'E_UNAUTHORIZED' ? 'Unknown user or wrong password.' : errorText(err);
        msg.hidden = false;
        pass.value = '';
        pass.focus();
      } finally {
        btn.disabled = false;
      }
    },
  },
  h('h1', 'Sign in to the line console'),
  h('p.muted.small', 'Use your OPC UA user name and password. Operators can watch, ask and review; engineers can also change recipes.'),
  h('label.field', 'User', user),
  h('label.field', 'Password', pass),
  msg,
  btn);
  root.append(form);
}
