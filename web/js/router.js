// A tiny hash router: '#/name/param…' → the view registered under 'name'. A view is a module
// object { name, title, nav?, mount(root, params, ctx) } whose mount returns an unmount
// function (or nothing). Views never know each other; they link with plain '#/…' hrefs.

export class Router {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.views = new Map();
    this.unmount = null;
    this.fallback = null;
    this.onChange = () => {};
    window.addEventListener('hashchange', () => this.render());
  }

  add(view) {
    this.views.set(view.name, view);
    return this;
  }

  /** Parts of the current hash: ['inspection', 'cam1-…'] for '#/inspection/cam1-…'. */
  parts() {
    const h = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
    return h === '' ? [] : h.split('/');
  }

  render() {
    const [name, ...params] = this.parts();
    const view = this.views.get(name) ?? this.views.get(this.fallback);
    if (!view) return;
    if (this.unmount) {
      try {
        this.unmount();
      } catch (e) {
        console.error(e);
      }
    }
    this.unmount = null;
    this.root.replaceChildren();
    document.title = `${view.title} · anomalygpt-edge`;
    this.onChange(view.name);
    const out = view.mount(this.root, params, this.ctx);
    if (typeof out === 'function') this.unmount = out;
    this.root.focus({ preventScroll: true });
  }
}
