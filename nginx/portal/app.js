/* postdesk portal — a small single page app, no build step, no framework.
 *
 * This is its core: the page registry and the hash router, the frame of a
 * signed-in page (top bar, navigation), signing out, booting; and
 * window.postdesk, what every page builds on.
 *
 * index.html loads the scripts with `defer`, in this order: dom.js (h() and
 * the rules every script keeps), api.js (api() and the session), ui.js (the
 * components), this file, then the pages, each registering itself with
 * postdesk.page(): login.js, mailboxes.js (with mailbox_form.js,
 * azure_setup.js and connect.js), list.js (what the list pages share),
 * rules.js, tickets.js, incoming.js, outgoing.js, sso.js.  The order of the pages is
 * the order of the navigation.  Deferred scripts all run before
 * DOMContentLoaded, so the first page is drawn after it, with every page
 * registered.
 */
'use strict';

(function () {
  const D = window.postdeskDom;
  const A = window.postdeskApi;
  const U = window.postdeskUi;
  const { h, $, replace } = D;

  /* Where each role starts: agents work tickets, admins set mail up. */
  const HOMES = { admin: '#/mailboxes', agent: '#/tickets' };

  function home() {
    const a = A.agent();
    return (a && HOMES[a.role]) || HOMES.agent;
  }

  /* Pages whose API routes are admin-only (the access table of
   * docs/ARCHITECTURE.md, "HTTP API"): an agent does not see them in the
   * navigation, and reaching one by its address shows why instead of the
   * page (which would only be refused). */
  const ADMIN_PAGES = ['mailboxes', 'rules', 'incoming'];

  /* A page and its sub-pages ('incoming', 'incoming-one'). */
  const family = (p, name) => p.name === name || p.name.startsWith(name + '-');

  function allowed(p) {
    const a = A.agent();
    return !(p.admin || ADMIN_PAGES.some((n) => family(p, n))) || (!!a && a.role === 'admin');
  }

  const state = {
    next: null,         // route to return to after login
    flash: null,        // {kind, text} shown once on the next page
    loginNotice: null,  // message for the login page (e.g. session ended)
  };

  let renderSeq = 0;    // increments on every route change; stale async work checks it

  // --------------------------------------------------------------- router

  /* postdesk.page({name, match(parts) -> {…}|null, view(ctx, main, route),
   * nav: {href, id, text, top}, public, admin}): nav.top pages are listed
   * under Helpdesk, the others under Configuration › Email; a public page is
   * drawn without the frame and without a session; an admin page (admin:
   * true, or named in ADMIN_PAGES) only for the role admin. */
  const pages = [];

  function parseRoute() {
    const raw = location.hash.replace(/^#/, '');
    const path = raw.split('?')[0];
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 0) return { name: 'home' };
    for (const p of pages) {
      const m = p.match(parts);
      if (m) return Object.assign({ name: p.name }, m);
    }
    return { name: 'not-found' };
  }

  function go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }

  function render() {
    const seq = ++renderSeq;
    D.leave();
    const route = parseRoute();
    const ctx = { seq, alive: () => seq === renderSeq };
    const page = pages.find((p) => p.name === route.name);

    if (page && page.public) {
      page.view(ctx, $('app'), route);
      return;
    }
    if (!A.agent()) {
      state.next = location.hash || null;
      location.replace('#/login');
      return;
    }
    if (route.name === 'home') { location.replace(home()); return; }

    const main = shell(route);
    if (page && !allowed(page)) viewNeedsAdmin(ctx, main, page);
    else if (page) page.view(ctx, main, route);
    else viewNotFound(ctx, main);
  }

  // --------------------------------------------------------------- layout

  function topbar() {
    const agent = A.agent();
    const who = agent.display_name || agent.username;
    return h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: home() },
        h('img', { class: 'brand-logo', src: 'favicon.svg', alt: '', width: '24', height: '24' }),
        h('span', { class: 'brand-name', text: 'postdesk' })),
      h('div', { class: 'whoami' },
        h('span', { class: 'agent-name', id: 'agent-name', title: agent.username, text: who }),
        h('span', { class: ['role-badge', 'role-' + agent.role], id: 'agent-role', text: agent.role }),
        h('button', { type: 'button', class: 'btn btn-quiet', id: 'logout', onclick: logout }, 'Log out')));
  }

  function navLink(p, route) {
    const on = route.name.startsWith(p.name);
    return h('li', null, h('a', {
      href: p.nav.href, id: p.nav.id, class: ['nav-link', on ? 'active' : ''],
      'aria-current': on ? 'page' : null,
    }, p.nav.text));
  }

  function sidenav(route) {
    const top = pages.filter((p) => p.nav && p.nav.top && allowed(p));
    const email = pages.filter((p) => p.nav && !p.nav.top && !p.nav.config && allowed(p));
    const config = pages.filter((p) => p.nav && p.nav.config && allowed(p)); // nav.config: under Configuration itself
    return h('nav', { class: 'sidenav', 'aria-label': 'Main' },
      top.length ? [h('p', { class: 'nav-group', text: 'Helpdesk' }),
        h('ul', { class: 'nav-list' }, top.map((p) => navLink(p, route)))] : null,
      email.length || config.length ? [h('p', { class: 'nav-group', text: 'Configuration' }),
        h('ul', { class: 'nav-list' },
          email.length ? h('li', null,
            h('span', { class: 'nav-sub', text: 'Email' }),
            h('ul', { class: 'nav-list nav-list-inner' }, email.map((p) => navLink(p, route)))) : null,
          config.map((p) => navLink(p, route)))] : null);
  }

  /* The frame of a signed-in page; returns its <main>. */
  function shell(route) {
    const main = h('main', { class: 'main', id: 'main', tabindex: '-1' });
    replace($('app'), topbar(), h('div', { class: 'layout' }, sidenav(route), main));
    return main;
  }

  function takeFlash() {
    const f = state.flash;
    state.flash = null;
    if (!f) return null;
    return h('div', { class: ['flash', 'flash-' + (f.kind || 'ok')], id: 'flash', role: 'status' },
      h('span', { text: f.text }));
  }

  function homeLink() {
    const p = pages.find((x) => x.nav && x.nav.href === home());
    return h('a', { href: home(), id: 'home-link', text: 'Go to ' + (p ? p.nav.text : 'the start page') });
  }

  function viewNotFound(ctx, main) {
    U.setTitle('Not found');
    replace(main,
      U.pageHeading('Page not found'),
      h('p', null, 'There is nothing at this address. ', homeLink(), '.'));
    U.focusHeading();
  }

  /* An admin page reached by an agent (a link, a bookmark): no request is
   * made, so nothing is refused. */
  function viewNeedsAdmin(ctx, main, page) {
    const top = page.nav ? page : pages.find((x) => x.nav && family(page, x.name));
    const name = top ? top.nav.text : 'This page';
    U.setTitle(name);
    replace(main,
      U.pageHeading(name),
      h('div', { class: 'notice', id: 'needs-admin', role: 'note' },
        h('p', { class: 'notice-title', text: name + ' needs an admin' }),
        h('p', { text: 'You are signed in as an agent. Ask a postdesk administrator if something here needs changing.' }),
        h('p', null, homeLink())));
    U.focusHeading();
  }

  // -------------------------------------------------------------- session

  function sessionEnded() {
    const wasSignedIn = !!A.agent();
    A.clear();
    if (wasSignedIn) state.loginNotice = 'Your session has ended. Please sign in again.';
    const here = location.hash;
    if (here && !here.startsWith('#/login')) state.next = here;
    if (!here.startsWith('#/login')) location.hash = '#/login';
    else render();
  }

  /* After a successful POST /api/session: where the agent was going. */
  function signIn(data) {
    A.accept(data);
    const next = state.next && !state.next.startsWith('#/login') ? state.next : home();
    state.next = null;
    go(next);
  }

  async function logout() {
    const btn = $('logout');
    if (btn) btn.disabled = true;
    try {
      await A.api('DELETE', '/api/session', undefined, { allow401: true });
    } catch (e) {
      // The session is gone locally either way.
    }
    A.clear();
    state.next = null;
    state.loginNotice = 'You have been logged out.';
    go('#/login');
  }

  // ----------------------------------------------------------------- boot

  const scriptsRan = new Promise((resolve) => {
    if (document.readyState === 'complete') resolve();
    else document.addEventListener('DOMContentLoaded', () => resolve(), { once: true });
  });

  function bootError(err) {
    const retry = h('button', { type: 'button', class: 'btn btn-primary', id: 'boot-retry', onclick: boot }, 'Try again');
    replace($('app'), h('main', { class: 'login-page', id: 'main', tabindex: '-1' },
      h('div', { class: 'login-card' },
        h('h1', { class: 'login-title', id: 'page-title', text: 'postdesk is not available' }),
        U.problemBlock(err, { id: 'boot-error' }),
        retry)));
  }

  async function boot() {
    try {
      const r = await A.api('GET', '/api/session', undefined, { allow401: true });
      A.accept(r.data);
    } catch (err) {
      await scriptsRan;
      if (err.status !== 401) { bootError(err); return; }
      A.clear();
    }
    await scriptsRan;
    render();
  }

  A.onUnauthorised(sessionEnded);

  document.addEventListener('click', (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest('a.skip-link') : null;
    if (!a) return;
    ev.preventDefault();
    const main = $('main');
    if (main) main.focus();
  });

  window.addEventListener('hashchange', () => {
    if (location.hash === '#main') return;
    render();
  });

  /* The helpers the pages build on. */
  window.postdesk = Object.freeze(Object.assign({
    page(p) { pages.push(p); },
    h, api: A.api, replace, $, announce: D.announce, go, takeFlash, signIn, home,
    agent: A.agent,
    cached: A.cached,
    retryAfterSeconds: A.retryAfterSeconds,
    flash(kind, text) { state.flash = { kind, text }; },
    takeLoginNotice() { const n = state.loginNotice; state.loginNotice = null; return n; },
    onLeave: D.onLeave,
  }, U));

  boot();
}());
