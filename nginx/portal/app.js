/* postdesk portal — a small single page app, no build step, no framework.
 *
 * Rules this file keeps (the page runs under a strict Content-Security-Policy):
 *  - DOM is built with createElement/textContent only (see h()); never
 *    innerHTML: every string shown may come from mail or from users.
 *  - No inline styles: presentation is by class names and the `hidden` property.
 *  - Every non-GET request carries X-CSRF-Token and a JSON content type (api()).
 */
'use strict';

(function () {
  // ---------------------------------------------------------------- state

  const state = {
    agent: null,        // {id, username, display_name, role}
    csrf: null,         // csrf_token of the session
    azureSetup: null,   // cached GET /api/azure-setup
    next: null,         // route to return to after login
    flash: null,        // {kind, text} shown once on the next page
    loginNotice: null,  // message for the login page (e.g. session ended)
  };

  let renderSeq = 0;    // increments on every route change; stale async work checks it
  let cleanups = [];    // timers etc. of the current page

  // ------------------------------------------------------------ constants

  const MAILBOX_TYPES = [{ id: 'office365', name: 'Office 365/Azure' }];

  const CLOUDS = [
    { id: 'global', name: 'Global (Microsoft 365, GCC)' },
    { id: 'usgov_l4', name: 'US Government L4 (GCC High)' },
    { id: 'usgov_l5', name: 'US Government L5 (DoD)' },
    { id: 'china', name: 'China (21Vianet)' },
  ];

  const PROCESSED_ACTIONS = [
    { id: 'move_to_deleted_items', name: 'Move to Deleted Items' },
    { id: 'move_to_folder', name: 'Move to folder…' },
    { id: 'mark_read', name: 'Mark as read' },
  ];

  const FIRST_SCAN = [
    { id: 'new_only', name: 'Only mail arriving from now on' },
    { id: 'all', name: 'Everything already in the Inbox' },
  ];

  const STATUS = {
    not_connected: { text: 'Not connected', kind: 'neutral' },
    new: { text: 'Not connected', kind: 'neutral' },
    connected: { text: 'Connected', kind: 'ok' },
    error: { text: 'Error', kind: 'bad' },
    needs_reauth: { text: 'Needs reauthorisation', kind: 'warn' },
    disconnected: { text: 'Disconnected', kind: 'neutral' },
  };

  // What each delegated Graph permission is for, in the guide's words.
  const PERMISSION_NOTES = {
    offline_access: 'Keeps access while nobody is signed in, so the scanner can run every minute.',
    openid: 'Signs the user in with their work or school account.',
    email: "Reads the user's primary email address.",
    profile: "Reads the user's basic profile; used to verify the mailbox when authorizing.",
    'Mail.ReadWrite': 'Reads mail and moves processed messages.',
    'Mail.Send': 'Sends acknowledgements and replies as the mailbox.',
    'Mail.ReadWrite.Shared': 'Reads and moves mail in the shared mailbox the user can access.',
    'Mail.Send.Shared': 'Sends as, or on behalf of, the shared mailbox.',
  };
  const FALLBACK_LICENSED = ['offline_access', 'openid', 'email', 'profile', 'Mail.ReadWrite', 'Mail.Send'];
  const FALLBACK_SHARED = ['Mail.ReadWrite.Shared', 'Mail.Send.Shared'];

  // API field name -> form control id.
  const FIELD_IDS = {
    name: 'mb-name',
    type: 'mb-type',
    client_id: 'mb-client-id',
    tenant_id: 'mb-tenant-id',
    secret: 'mb-secret',
    secret_expires_on: 'mb-secret-expires',
    shared_address: 'mb-shared-address',
    cloud: 'mb-cloud',
    processed_action: 'mb-processed-action',
    processed_folder: 'mb-processed-folder',
    quarantine_folder: 'mb-quarantine-folder',
    first_scan: 'mb-first-scan',
    ack_enabled: 'mb-ack-enabled',
    ack_subject: 'mb-ack-subject',
    ack_body: 'mb-ack-body',
    ack_per_hour: 'mb-ack-per-hour',
  };

  const GUID_RE = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;

  // ---------------------------------------------------------- DOM helper

  /* h('div', {class: 'x', text: 'hi', onclick: fn}, child, [children], 'text')
   * Properties go through the DOM API; strings become text nodes. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const key of Object.keys(props)) {
        const v = props[key];
        if (v === null || v === undefined || v === false) continue;
        if (key === 'class') {
          node.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
        } else if (key === 'text') {
          node.textContent = String(v);
        } else if (key === 'dataset') {
          for (const d of Object.keys(v)) node.dataset[d] = String(v[d]);
        } else if (key.startsWith('on') && typeof v === 'function') {
          node.addEventListener(key.slice(2), v);
        } else if (['value', 'checked', 'disabled', 'hidden', 'selected', 'type', 'name', 'id', 'href', 'htmlFor'].includes(key)) {
          node[key] = v;
        } else if (key === 'style') {
          throw new Error('inline styles are not allowed; use a class');
        } else {
          node.setAttribute(key, v === true ? '' : String(v));
        }
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(node, c);
      else if (c instanceof Node) node.appendChild(c);
      else node.appendChild(document.createTextNode(String(c)));
    }
  }

  function $(id) { return document.getElementById(id); }

  /* Like node.replaceChildren(), but skips null/false and flattens arrays. */
  function replace(node, ...children) {
    node.replaceChildren();
    append(node, children);
    return node;
  }

  function announce(text) {
    const live = $('live');
    if (!live) return;
    live.textContent = '';
    // A fresh text node makes screen readers announce repeated messages too.
    window.setTimeout(() => { live.textContent = text; }, 30);
  }

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(status, problem, headers) {
      super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
      this.status = status;
      this.problem = problem || {};
      this.headers = headers || null;
      this.handled = false;
    }
  }

  function genericTitle(status) {
    if (status >= 500) return 'The server had a problem (' + status + ')';
    if (status === 404) return 'Not found';
    if (status === 403) return 'Not allowed';
    return 'Request failed (' + status + ')';
  }

  /* api(method, path, body?, {allow401, ifMatch}) -> {status, data, headers}
   * ifMatch: the ETag the change is based on (a 412 means it changed elsewhere).
   * Throws ApiError for any non-2xx answer (problem+json parsed when present).
   * A 401 ends the local session and goes to the login page unless allow401. */
  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = { Accept: 'application/json, application/problem+json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') {
      headers['Content-Type'] = 'application/json';
      if (state.csrf) headers['X-CSRF-Token'] = state.csrf;
      if (opts.ifMatch) headers['If-Match'] = opts.ifMatch;
      if (body !== undefined) init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, {
        title: 'Cannot reach postdesk',
        detail: 'The server did not answer. Check your connection, then try again.',
      });
    }
    let data = null;
    if (res.status !== 204 && method !== 'HEAD') {
      const text = await res.text().catch(() => '');
      const ct = res.headers.get('Content-Type') || '';
      if (opts.text && res.ok) {
        data = text; // a text/plain answer (a message's whole body)
      } else if (text && /json/i.test(ct)) {
        try { data = JSON.parse(text); } catch (e) { data = null; }
      }
    }
    if (res.ok) return { status: res.status, data, headers: res.headers };

    const problem = data && typeof data === 'object' && !Array.isArray(data)
      ? data
      : { title: genericTitle(res.status), detail: 'The server returned an unexpected answer.' };
    if (!problem.request_id) {
      const rid = res.headers.get('X-Request-Id');
      if (rid) problem.request_id = rid;
    }
    const err = new ApiError(res.status, problem, res.headers);
    if (res.status === 401 && !opts.allow401) {
      err.handled = true;
      sessionEnded();
    }
    throw err;
  }

  function sessionEnded() {
    const wasSignedIn = !!state.agent;
    state.agent = null;
    state.csrf = null;
    state.azureSetup = null;
    if (wasSignedIn) state.loginNotice = 'Your session has ended. Please sign in again.';
    const here = location.hash;
    if (here && !here.startsWith('#/login')) state.next = here;
    if (!here.startsWith('#/login')) location.hash = '#/login';
    else render();
  }

  /* Seconds from a Retry-After header (delta-seconds or HTTP-date). */
  function retryAfterSeconds(headers) {
    const v = headers && headers.get('Retry-After');
    if (!v) return null;
    if (/^\s*\d+\s*$/.test(v)) return parseInt(v, 10);
    const t = Date.parse(v);
    if (Number.isNaN(t)) return null;
    return Math.max(0, Math.ceil((t - Date.now()) / 1000));
  }

  /* A readable block for any error: title, detail, guidance, reference. */
  function problemBlock(err, opts) {
    opts = opts || {};
    const p = (err && err.problem) || {};
    let title = p.title || (err && err.message) || 'Something went wrong';
    let detail = p.detail || '';
    if (err && err.status === 429) {
      const s = retryAfterSeconds(err.headers);
      title = s !== null ? 'Too many attempts, try again in ' + s + ' s' : 'Too many attempts, try again later';
    }
    if (err && err.status === 403 && !p.detail) {
      detail = 'Your account is not allowed to do this.';
    }
    if (err && err.status === 412) {
      title = 'Changed elsewhere — reload';
      detail = 'Someone saved a change after you opened this page. Reload to see it, then make your change again.';
    }
    if (detail === title) detail = '';
    return h('div', { class: 'problem', id: opts.id, role: 'alert', tabindex: '-1' },
      h('p', { class: 'problem-title', text: title }),
      detail ? h('p', { class: 'problem-detail', text: detail }) : null,
      p.guidance ? h('p', { class: 'problem-guidance', text: p.guidance }) : null,
      p.request_id ? h('p', { class: 'problem-ref', text: 'Reference: ' + p.request_id }) : null,
      err && err.status === 412
        ? h('p', null, h('button', { type: 'button', class: 'btn problem-reload', text: 'Reload', onclick: () => location.reload() }))
        : null);
  }

  // --------------------------------------------------------------- router

  function parseRoute() {
    const raw = location.hash.replace(/^#/, '');
    const path = raw.split('?')[0];
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 0) return { name: 'home' };
    if (parts[0] === 'login' && parts.length === 1) return { name: 'login' };
    if (parts[0] === 'mailboxes') {
      if (parts.length === 1) return { name: 'mailboxes' };
      if (parts.length === 2 && parts[1] === 'new') return { name: 'mailbox-new' };
      if (parts.length === 2 && /^[1-9][0-9]{0,17}$/.test(parts[1])) return { name: 'mailbox-edit', id: parts[1] };
    }
    for (const p of pages) {
      const m = p.match(parts);
      if (m) return Object.assign({ name: p.name }, m);
    }
    return { name: 'not-found' };
  }

  /* Pages added by other scripts (e.g. rules.js) through postdesk.page(). */
  const pages = [];

  function go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }

  function runCleanups() {
    const list = cleanups;
    cleanups = [];
    for (const fn of list) {
      try { fn(); } catch (e) { /* ignore */ }
    }
  }

  function render() {
    const seq = ++renderSeq;
    runCleanups();
    const route = parseRoute();
    const ctx = { seq, alive: () => seq === renderSeq };

    if (route.name === 'login') {
      if (state.agent) { location.replace('#/mailboxes'); return; }
      viewLogin(ctx);
      return;
    }
    if (!state.agent) {
      state.next = location.hash || null;
      location.replace('#/login');
      return;
    }
    if (route.name === 'home') { location.replace('#/mailboxes'); return; }

    const main = shell(route);
    if (route.name === 'mailboxes') viewMailboxes(ctx, main);
    else if (route.name === 'mailbox-new') viewMailboxForm(ctx, main, null);
    else if (route.name === 'mailbox-edit') viewMailboxForm(ctx, main, route.id);
    else if (pages.some((p) => p.name === route.name)) pages.find((p) => p.name === route.name).view(ctx, main, route);
    else viewNotFound(ctx, main);
  }

  // --------------------------------------------------------------- layout

  function shell(route) {
    const app = $('app');
    const agent = state.agent;
    const who = agent.display_name || agent.username;
    const header = h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: '#/mailboxes' },
        h('img', { class: 'brand-logo', src: 'favicon.svg', alt: '', width: '24', height: '24' }),
        h('span', { class: 'brand-name', text: 'postdesk' })),
      h('div', { class: 'whoami' },
        h('span', { class: 'agent-name', id: 'agent-name', title: agent.username, text: who }),
        h('span', { class: ['role-badge', 'role-' + agent.role], id: 'agent-role', text: agent.role }),
        h('button', { type: 'button', class: 'btn btn-quiet', id: 'logout', onclick: logout }, 'Log out')));

    const mailboxActive = route.name.startsWith('mailbox');
    // Pages with nav.top (e.g. Tickets) come before Configuration.
    const navLink = (p) => {
      const on = route.name.startsWith(p.name);
      return h('li', null, h('a', {
        href: p.nav.href, id: p.nav.id, class: ['nav-link', on ? 'active' : ''],
        'aria-current': on ? 'page' : null,
      }, p.nav.text));
    };
    const top = pages.filter((p) => p.nav && p.nav.top);
    const nav = h('nav', { class: 'sidenav', 'aria-label': 'Main' },
      top.length ? [h('p', { class: 'nav-group', text: 'Helpdesk' }), h('ul', { class: 'nav-list' }, top.map(navLink))] : null,
      h('p', { class: 'nav-group', text: 'Configuration' }),
      h('ul', { class: 'nav-list' },
        h('li', null,
          h('span', { class: 'nav-sub', text: 'Email' }),
          h('ul', { class: 'nav-list nav-list-inner' },
            h('li', null,
              h('a', {
                href: '#/mailboxes',
                id: 'nav-mailboxes',
                class: ['nav-link', mailboxActive ? 'active' : ''],
                'aria-current': mailboxActive ? 'page' : null,
              }, 'Mailbox Setup')),
            pages.filter((p) => p.nav && !p.nav.top).map((p) => {
              const on = route.name.startsWith(p.name);
              return h('li', null, h('a', {
                href: p.nav.href, id: p.nav.id, class: ['nav-link', on ? 'active' : ''],
                'aria-current': on ? 'page' : null,
              }, p.nav.text));
            })))));

    const main = h('main', { class: 'main', id: 'main', tabindex: '-1' });
    replace(app, header, h('div', { class: 'layout' }, nav, main));
    return main;
  }

  function breadcrumb(items) {
    const ol = h('ol', { class: 'crumbs' });
    items.forEach((it, i) => {
      const last = i === items.length - 1;
      ol.appendChild(h('li', null,
        it.href && !last ? h('a', { href: it.href, text: it.text })
          : h('span', { 'aria-current': last ? 'page' : null, text: it.text })));
    });
    return h('nav', { class: 'crumbs-nav', 'aria-label': 'Breadcrumb' }, ol);
  }

  function pageHeading(text, actions) {
    return h('div', { class: 'page-head' },
      h('h1', { id: 'page-title', tabindex: '-1', text }),
      actions ? h('div', { class: 'page-actions' }, actions) : null);
  }

  function setTitle(text) { document.title = text + ' · postdesk'; }

  function focusHeading() {
    const t = $('page-title');
    if (t) t.focus({ preventScroll: true });
  }

  function takeFlash() {
    const f = state.flash;
    state.flash = null;
    if (!f) return null;
    return h('div', { class: ['flash', 'flash-' + (f.kind || 'ok')], id: 'flash', role: 'status' },
      h('span', { text: f.text }));
  }

  function loading(text) {
    return h('p', { class: 'loading', role: 'status', text: text || 'Loading…' });
  }

  // ---------------------------------------------------------------- login

  function viewLogin(ctx) {
    setTitle('Sign in');
    const app = $('app');
    const notice = state.loginNotice;
    state.loginNotice = null;

    const errorBox = h('div', { id: 'login-error', class: 'login-error', 'aria-live': 'assertive' });
    const user = h('input', { id: 'login-username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
    const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { id: 'login-submit', type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');

    let countdown = null;
    function stopCountdown() {
      if (countdown) { window.clearInterval(countdown); countdown = null; }
      submit.disabled = false;
    }
    cleanups.push(stopCountdown);

    function showError(err) {
      stopCountdown();
      if (err.status === 429) {
        let s = retryAfterSeconds(err.headers);
        const box = problemBlock(err);
        replace(errorBox, box);
        if (s !== null && s > 0) {
          const titleEl = box.querySelector('.problem-title');
          submit.disabled = true;
          countdown = window.setInterval(() => {
            s -= 1;
            if (s <= 0) {
              stopCountdown();
              titleEl.textContent = 'You can try again now.';
            } else {
              titleEl.textContent = 'Too many attempts, try again in ' + s + ' s';
            }
          }, 1000);
        }
        return;
      }
      if (err.status === 401) {
        const p = err.problem || {};
        replace(errorBox, problemBlock({
          status: 401,
          problem: {
            title: p.title && p.title !== 'Unauthorized' ? p.title : 'Wrong username or password',
            detail: p.detail || '',
            request_id: p.request_id,
          },
        }));
        return;
      }
      replace(errorBox, problemBlock(err));
    }

    async function onSubmit(ev) {
      ev.preventDefault();
      if (submit.disabled) return;
      errorBox.replaceChildren();
      if (!user.value.trim() || !pass.value) {
        replace(errorBox, problemBlock({ problem: { title: 'Enter your username and password.' } }));
        (user.value.trim() ? pass : user).focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      try {
        const r = await api('POST', '/api/session', { username: user.value.trim(), password: pass.value }, { allow401: true });
        if (!ctx.alive()) return;
        acceptSession(r.data);
        const next = state.next && !state.next.startsWith('#/login') ? state.next : '#/mailboxes';
        state.next = null;
        go(next);
      } catch (err) {
        if (!ctx.alive()) return;
        submit.disabled = false;
        submit.textContent = 'Sign in';
        pass.value = '';
        showError(err);
        pass.focus();
      }
    }

    const card = h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' },
        h('img', { class: 'brand-logo-lg', src: 'favicon.svg', alt: '', width: '40', height: '40' }),
        h('span', { class: 'brand-name', text: 'postdesk' })),
      h('h1', { class: 'login-title', id: 'page-title', tabindex: '-1', text: 'Sign in' }),
      h('p', { class: 'muted', text: 'Microsoft 365 mailboxes in, helpdesk tickets out.' }),
      notice ? h('div', { class: 'flash flash-info', id: 'login-notice', role: 'status', text: notice }) : null,
      h('form', { class: 'login-form', id: 'login-form', novalidate: true, onsubmit: onSubmit },
        h('div', { class: 'field' },
          h('label', { htmlFor: 'login-username', text: 'Username' }), user),
        h('div', { class: 'field' },
          h('label', { htmlFor: 'login-password', text: 'Password' }), pass),
        errorBox,
        submit));
    replace(app, h('main', { class: 'login-page', id: 'main', tabindex: '-1' }, card));
    user.focus();
  }

  function acceptSession(data) {
    if (!data || !data.agent) throw new ApiError(500, { title: 'Unexpected answer from the server' });
    state.agent = data.agent;
    state.csrf = data.csrf_token || null;
  }

  async function logout() {
    const btn = $('logout');
    if (btn) btn.disabled = true;
    try {
      await api('DELETE', '/api/session', undefined, { allow401: true });
    } catch (e) {
      // The session is gone locally either way.
    }
    state.agent = null;
    state.csrf = null;
    state.azureSetup = null;
    state.next = null;
    state.loginNotice = 'You have been logged out.';
    go('#/login');
  }

  // ------------------------------------------------------------ not found

  function viewNotFound(ctx, main) {
    setTitle('Not found');
    replace(main,
      pageHeading('Page not found'),
      h('p', null, 'There is nothing at this address. ',
        h('a', { href: '#/mailboxes', text: 'Go to Mailbox Setup' }), '.'));
    focusHeading();
  }

  function needsAdmin(main, what) {
    main.appendChild(h('div', { class: 'notice', id: 'needs-admin', role: 'note' },
      h('p', { class: 'notice-title', text: 'Mailbox setup needs an admin' }),
      h('p', { text: 'You are signed in as an agent. ' + what + ' Ask a postdesk administrator to add or change mailboxes.' })));
  }

  // ------------------------------------------------------- mailbox list

  function statusBadge(status) {
    const s = STATUS[status] || { text: String(status || 'Unknown'), kind: 'neutral' };
    return h('span', { class: ['badge', 'badge-' + s.kind], dataset: { status: status || '' }, text: s.text });
  }

  function daysUntil(dateStr) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateStr || '');
    if (!m) return null;
    const then = Date.UTC(+m[1], +m[2] - 1, +m[3]);
    const now = new Date();
    const today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
    return Math.round((then - today) / 86400000);
  }

  /* The server says whether a secret expires soon (secret_expiring); older
   * answers without the field fall back to the same 14-day rule here. */
  function expiringSoon(mb, d) {
    if (typeof mb.secret_expiring === 'boolean') return mb.secret_expiring && d !== null && d >= 0;
    return d !== null && d >= 0 && d <= 14;
  }

  function expiryCell(mb) {
    if (!mb.secret_set) return h('span', { class: 'muted', text: 'No secret' });
    if (!mb.secret_expires_on) return h('span', { class: 'muted', text: 'Not recorded' });
    const d = daysUntil(mb.secret_expires_on);
    if (d !== null && d < 0) {
      return h('span', { class: 'expiry expiry-bad', text: mb.secret_expires_on + ' (expired)' });
    }
    if (expiringSoon(mb, d)) {
      return h('span', { class: 'expiry expiry-warn', text: mb.secret_expires_on + ' (in ' + d + (d === 1 ? ' day)' : ' days)') });
    }
    return h('span', { class: 'expiry', text: mb.secret_expires_on });
  }

  function fmtTime(iso) {
    return String(iso).replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
  }

  /* The scan health at a glance: last scan, mail waiting, last error. */
  function healthCell(mb) {
    const lines = [];
    if (mb.last_scan_at) {
      const ok = mb.last_success_at && mb.last_success_at === mb.last_scan_at;
      lines.push(h('span', { class: 'health-scan', text: 'Last scan ' + fmtTime(mb.last_scan_at) + (ok ? '' : ' (failed)') }));
      if (mb.last_success_at && !ok) lines.push(h('span', { class: 'health-success', text: 'Last success ' + fmtTime(mb.last_success_at) }));
    } else {
      lines.push(h('span', { class: 'muted health-scan', text: mb.status === 'connected' ? 'Not scanned yet' : 'Not scanning' }));
    }
    if (typeof mb.messages_waiting === 'number') {
      lines.push(h('span', { class: 'health-waiting', text: mb.messages_waiting + (mb.messages_waiting === 1 ? ' message' : ' messages') + ' waiting' }));
    }
    if (mb.last_error) lines.push(h('span', { class: 'health-error', title: mb.last_error.guidance || '', text: mb.last_error.message }));
    if (mb.attention > 0) lines.push(attentionLink(mb));
    return h('div', { class: 'health', dataset: { id: mb.id } }, lines.map((l, i) => [i ? h('br') : null, l]));
  }

  /* "N mails need attention": failed or quarantined mail (the mailbox's
   * `attention`), linking to exactly those rows of the incoming email log. */
  function attentionLink(mb) {
    const n = mb.attention;
    return h('a', { class: 'health-attention', href: '#/incoming?mailbox=' + encodeURIComponent(mb.id) + '&attention=true',
      text: n + (n === 1 ? ' mail needs attention' : ' mails need attention') });
  }

  function typeName(id) {
    const t = MAILBOX_TYPES.find((x) => x.id === id);
    return t ? t.name : String(id || '');
  }

  async function viewMailboxes(ctx, main) {
    setTitle('Mailbox Setup');
    const isAdmin = state.agent.role === 'admin';
    replace(main,
      breadcrumb([{ text: 'Configuration' }, { text: 'Email' }, { text: 'Mailbox Setup' }]),
      pageHeading('Mailbox Setup', isAdmin
        ? h('a', { class: 'btn btn-primary', id: 'mailbox-new', href: '#/mailboxes/new' }, 'New mailbox')
        : null),
      takeFlash());
    focusHeading();
    if (!isAdmin) {
      needsAdmin(main, 'Mailbox setup changes how mail becomes tickets.');
      return;
    }
    const slot = h('div', { id: 'mailbox-list-slot' }, loading('Loading mailboxes…'));
    main.appendChild(slot);
    let items;
    try {
      const r = await api('GET', '/api/mailboxes');
      items = (r.data && Array.isArray(r.data.items)) ? r.data.items : [];
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, problemBlock(err, { id: 'list-error' }));
      return;
    }
    if (!ctx.alive()) return;
    if (items.length === 0) {
      replace(slot, h('div', { class: 'empty', id: 'mailbox-empty' },
        h('p', { class: 'empty-title', text: 'No mailboxes yet' }),
        h('p', { class: 'muted', text: 'Add an Office 365/Azure mailbox: postdesk scans its Inbox every minute and turns each message into a ticket.' }),
        h('a', { class: 'btn btn-primary', href: '#/mailboxes/new' }, 'Add the first mailbox')));
      return;
    }
    const tbody = h('tbody');
    for (const mb of items) {
      tbody.appendChild(h('tr', { class: 'mailbox-row', dataset: { id: mb.id } },
        h('td', { class: 'cell-name' }, h('a', { href: '#/mailboxes/' + encodeURIComponent(mb.id), class: 'mailbox-link', text: mb.name })),
        h('td', { class: 'cell-type', 'data-label': 'Type', text: typeName(mb.type) }),
        h('td', { class: 'cell-shared', 'data-label': 'Shared mailbox' },
          mb.shared_address ? h('span', { text: mb.shared_address }) : h('span', { class: 'muted', text: 'Licensed mailbox' })),
        h('td', { class: 'cell-status', 'data-label': 'Status' }, statusBadge(mb.status)),
        h('td', { class: 'cell-expiry', 'data-label': 'Secret expires' }, expiryCell(mb)),
        h('td', { class: 'cell-health', 'data-label': 'Scanning' }, healthCell(mb))));
    }
    replace(slot, h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'mailbox-table' },
        h('caption', { class: 'visually-hidden', text: 'Mailboxes' }),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col', text: 'Name' }),
          h('th', { scope: 'col', text: 'Type' }),
          h('th', { scope: 'col', text: 'Shared mailbox' }),
          h('th', { scope: 'col', text: 'Status' }),
          h('th', { scope: 'col', text: 'Secret expires' }),
          h('th', { scope: 'col', text: 'Scanning' }))),
        tbody)));
  }

  // -------------------------------------------------------- mailbox form

  async function loadAzureSetup() {
    if (state.azureSetup) return state.azureSetup;
    const r = await api('GET', '/api/azure-setup');
    state.azureSetup = r.data || {};
    return state.azureSetup;
  }

  function options(list, selected) {
    return list.map((o) => h('option', { value: o.id, selected: o.id === selected, text: o.name }));
  }

  /* One labelled form row: label, control, help, room for an error. */
  function field(id, label, control, help, opts) {
    opts = opts || {};
    const helpId = id + '-help';
    const describedBy = [help ? helpId : null, opts.extraDescribedBy || null].filter(Boolean).join(' ');
    if (describedBy) control.setAttribute('aria-describedby', describedBy);
    const wrap = h('div', { class: ['field', opts.class], id: id + '-field' },
      h('label', { htmlFor: id },
        label,
        opts.required ? h('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }) : null,
        opts.optional ? h('span', { class: 'opt', text: ' (optional)' }) : null),
      opts.before || null,
      control,
      opts.after || null,
      help ? h('p', { class: 'help', id: helpId }, help) : null);
    if (opts.required) control.setAttribute('aria-required', 'true');
    return wrap;
  }

  function strong(text) { return h('strong', { text }); }

  async function viewMailboxForm(ctx, main, id) {
    const editing = id !== null;
    setTitle(editing ? 'Edit mailbox' : 'New mailbox');
    const crumbs = [{ text: 'Configuration' }, { text: 'Email' }, { text: 'Mailbox Setup', href: '#/mailboxes' },
      { text: editing ? 'Edit mailbox' : 'New mailbox' }];
    replace(main, breadcrumb(crumbs), pageHeading(editing ? 'Edit mailbox' : 'New mailbox'));
    focusHeading();
    if (state.agent.role !== 'admin') {
      needsAdmin(main, 'Adding or changing a mailbox is an admin task.');
      return;
    }
    const slot = h('div', null, loading());
    main.appendChild(slot);

    let setup = null;
    let mailbox = null;
    let setupError = null;
    try {
      const [s, m] = await Promise.all([
        loadAzureSetup().catch((e) => { if (e.handled) throw e; setupError = e; return null; }),
        editing ? api('GET', '/api/mailboxes/' + encodeURIComponent(id)) : Promise.resolve(null),
      ]);
      setup = s;
      mailbox = m ? m.data : null;
      // The version the form edits: sent as If-Match (a 412 says "changed elsewhere").
      if (mailbox) mailbox._etag = m.headers.get('ETag');
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      if (err.status === 404) {
        replace(slot, h('div', { class: 'notice', id: 'mailbox-missing' },
          h('p', { class: 'notice-title', text: 'This mailbox does not exist' }),
          h('p', null, 'It may have been deleted. ', h('a', { href: '#/mailboxes', text: 'Back to Mailbox Setup' }), '.')));
      } else {
        replace(slot, problemBlock(err, { id: 'load-error' }));
      }
      return;
    }
    if (!ctx.alive()) return;
    if (editing && mailbox) {
      const t = $('page-title');
      if (t) t.textContent = mailbox.name;
      setTitle(mailbox.name);
      const last = main.querySelector('.crumbs li:last-child span');
      if (last) last.textContent = mailbox.name;
    }
    replace(slot, buildMailboxForm(ctx, mailbox, setup, setupError));
    const first = $('mb-name');
    if (first && !editing) first.focus();
  }

  function buildMailboxForm(ctx, mailbox, setup, setupError) {
    const editing = !!mailbox;
    const mb = mailbox || {};
    const controls = {};

    // -- controls
    controls.name = h('input', { id: 'mb-name', name: 'name', type: 'text', maxlength: '100', autocomplete: 'off', value: mb.name || '', placeholder: 'e.g. Support' });
    controls.type = h('select', { id: 'mb-type', name: 'type' }, options(MAILBOX_TYPES, mb.type || 'office365'));
    controls.client_id = h('input', { id: 'mb-client-id', name: 'client_id', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', value: mb.client_id || '', placeholder: '00000000-0000-0000-0000-000000000000' });
    controls.tenant_id = h('input', { id: 'mb-tenant-id', name: 'tenant_id', type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', value: mb.tenant_id || '', placeholder: 'GUID or contoso.onmicrosoft.com' });
    controls.secret = h('input', { id: 'mb-secret', name: 'secret', type: 'password', autocomplete: 'new-password', spellcheck: 'false', class: 'mono', maxlength: '255', value: '', placeholder: editing && mb.secret_set ? 'Leave empty to keep the current secret' : 'Paste the secret’s Value' });
    controls.secret_expires_on = h('input', { id: 'mb-secret-expires', name: 'secret_expires_on', type: 'date', value: mb.secret_expires_on || '' });
    controls.shared_address = h('input', { id: 'mb-shared-address', name: 'shared_address', type: 'email', autocomplete: 'off', spellcheck: 'false', value: mb.shared_address || '', placeholder: 'help@contoso.com' });
    controls.cloud = h('select', { id: 'mb-cloud', name: 'cloud' }, options(CLOUDS, mb.cloud || 'global'));
    controls.processed_action = h('select', { id: 'mb-processed-action', name: 'processed_action' }, options(PROCESSED_ACTIONS, mb.processed_action || 'move_to_deleted_items'));
    controls.processed_folder = h('input', { id: 'mb-processed-folder', name: 'processed_folder', type: 'text', autocomplete: 'off', maxlength: '255', value: mb.processed_folder || '', placeholder: 'e.g. Processed' });
    controls.quarantine_folder = h('input', { id: 'mb-quarantine-folder', name: 'quarantine_folder', type: 'text', autocomplete: 'off', maxlength: '255', value: mb.quarantine_folder || 'Postdesk quarantine' });
    controls.first_scan = h('select', { id: 'mb-first-scan', name: 'first_scan' }, options(FIRST_SCAN, mb.first_scan || 'new_only'));
    controls.ack_enabled = h('input', { id: 'mb-ack-enabled', name: 'ack_enabled', type: 'checkbox', checked: mb.ack_enabled === undefined ? true : !!mb.ack_enabled });
    controls.ack_subject = h('input', { id: 'mb-ack-subject', name: 'ack_subject', type: 'text', maxlength: '255', autocomplete: 'off', value: mb.ack_subject || '[#{ticket}] {subject}' });
    controls.ack_body = h('textarea', { id: 'mb-ack-body', name: 'ack_body', rows: '6', maxlength: '5000', placeholder: 'Leave empty for the default text' });
    controls.ack_body.value = mb.ack_body || '';
    controls.ack_per_hour = h('input', { id: 'mb-ack-per-hour', name: 'ack_per_hour', type: 'number', min: '1', max: '1000', step: '1', value: String(mb.ack_per_hour || 5) });

    // Add cloud options the server knows and this page does not (forward compatible).
    if (setup && Array.isArray(setup.clouds)) {
      for (const c of setup.clouds) {
        if (c && c.id && !CLOUDS.some((k) => k.id === c.id)) {
          controls.cloud.appendChild(h('option', { value: c.id, selected: c.id === mb.cloud, text: c.name || c.id }));
        }
      }
    }

    // -- secret: what is stored, and a live hint for the Secret ID mistake
    let secretStatus = null;
    if (editing && mb.secret_set) {
      let t = 'Secret set, ends …' + (mb.secret_last4 || '????');
      t += mb.secret_expires_on ? ', expires ' + mb.secret_expires_on : ', no expiry date recorded';
      const d = daysUntil(mb.secret_expires_on);
      const soon = expiringSoon(mb, d);
      secretStatus = h('p', { class: ['secret-status', d !== null && d < 0 ? 'secret-expired' : (soon ? 'secret-soon' : '')], id: 'mb-secret-status' },
        h('span', { class: 'secret-status-text', text: t }),
        d !== null && d < 0 ? h('span', { class: 'secret-status-extra', text: ' — expired: create a new secret in Azure and paste its Value here.' }) : null,
        soon ? h('span', { class: 'secret-status-extra', text: ' — expires soon: create the next secret in Azure now.' }) : null);
    }
    const secretHint = h('p', { class: 'field-hint', id: 'mb-secret-hint', hidden: true, role: 'status' });
    function updateSecretHint() {
      const v = controls.secret.value.trim();
      if (v && GUID_RE.test(v)) {
        secretHint.textContent = 'This looks like the Secret ID (a GUID). In Azure, copy the secret’s Value column instead. If the Value is no longer shown, create a new client secret.';
        secretHint.hidden = false;
      } else {
        secretHint.hidden = true;
        secretHint.textContent = '';
      }
    }
    controls.secret.addEventListener('input', updateSecretHint);

    const clientHint = h('p', { class: 'field-hint', id: 'mb-client-id-hint', hidden: true, role: 'status' });
    controls.client_id.addEventListener('blur', () => {
      const v = controls.client_id.value.trim();
      if (v && !GUID_RE.test(v)) {
        clientHint.textContent = 'An Application (client) ID looks like 0b5e1c2d-…: 32 hexadecimal digits in five groups.';
        clientHint.hidden = false;
      } else {
        clientHint.hidden = true;
      }
    });

    const showSecretBtn = h('button', { type: 'button', class: 'btn btn-small btn-quiet', id: 'mb-secret-toggle', 'aria-controls': 'mb-secret', 'aria-pressed': 'false' }, 'Show');
    showSecretBtn.addEventListener('click', () => {
      const shown = controls.secret.type === 'text';
      controls.secret.type = shown ? 'password' : 'text';
      showSecretBtn.textContent = shown ? 'Show' : 'Hide';
      showSecretBtn.setAttribute('aria-pressed', shown ? 'false' : 'true');
    });

    // -- folder only with move_to_folder
    const folderField = field('mb-processed-folder', 'Folder name', controls.processed_folder,
      'A folder of this mailbox (created if missing). Processed mail is moved there.', { required: true });
    function syncFolder() {
      folderField.hidden = controls.processed_action.value !== 'move_to_folder';
    }
    controls.processed_action.addEventListener('change', syncFolder);
    syncFolder();

    // -- acknowledgement settings only while acknowledgements are on
    const ackSettings = h('div', { class: 'ack-settings', id: 'mb-ack-settings' },
      field('mb-ack-subject', 'Acknowledgement subject', controls.ack_subject,
        '{ticket} becomes the ticket number, {subject} the subject of the mail. Without {ticket} the ticket tag ([#123]) is put in front anyway.'),
      field('mb-ack-body', 'Acknowledgement text', controls.ack_body,
        'Plain text with {ticket} and {subject}; up to 5000 characters. Empty: the default text.',
        { optional: true }),
      field('mb-ack-per-hour', 'At most per sender and hour', controls.ack_per_hour,
        'More mail from one sender within an hour gets no acknowledgement; the incoming email log says why. This is what stops a mail loop.'));
    function syncAck() {
      ackSettings.hidden = !controls.ack_enabled.checked;
    }
    controls.ack_enabled.addEventListener('change', syncAck);
    syncAck();

    // -- first scan warning
    const firstScanWarning = h('div', { class: 'warning', id: 'mb-first-scan-warning', role: 'note' },
      h('strong', { text: 'Every message in the Inbox becomes a ticket. ' }),
      'Make sure the Inbox is empty, or holds only mail you want as tickets, before you authorize the mailbox.');
    function syncFirstScan() {
      firstScanWarning.hidden = controls.first_scan.value !== 'all';
    }
    controls.first_scan.addEventListener('change', syncFirstScan);
    syncFirstScan();

    // -- shared mailbox help, shown stronger when the field is filled
    const sharedNote = h('div', { class: 'callout', id: 'mb-shared-note' },
      h('p', { class: 'callout-title', text: 'Shared mailbox checklist' }),
      h('ul', null,
        h('li', null, 'The user who signs in when you authorize must be a ', strong('delegate'), ' of this shared mailbox with ',
          strong('Read and manage'), ' (Full Access) and ', strong('Send as'), ' permissions.'),
        h('li', null, 'Set these in the ', strong('Microsoft 365 admin centre'), ' (Teams & groups › Shared mailboxes › Manage mailbox permissions), not in the Exchange admin centre.'),
        h('li', null, 'Grant the two ', strong('.Shared'), ' permissions in Azure as well (see “Register these in Azure”).'),
        h('li', null, 'Until this is right, postdesk could read the signing-in user’s own Inbox instead — empty that Inbox first if in doubt.')));

    // -- Azure panel (needs to react to the shared address)
    const azure = azurePanel(mb, setup, setupError, editing);
    function syncShared() {
      const filled = controls.shared_address.value.trim() !== '';
      sharedNote.hidden = !filled;
      azure.setShared(filled);
    }
    controls.shared_address.addEventListener('input', syncShared);
    controls.shared_address.addEventListener('change', syncShared);
    syncShared();

    // -- changing how a connected mailbox signs in means authorizing again
    const reauthWarning = h('div', { class: 'warning', id: 'mb-reauth-warning', role: 'note', hidden: true },
      h('strong', { text: 'Authorize again after saving. ' }),
      'Changing the Client ID, Tenant ID, secret or shared mailbox of a connected mailbox disconnects it until it is authorized again.');
    if (editing && mb.status === 'connected') {
      const watched = [controls.client_id, controls.tenant_id, controls.secret, controls.shared_address];
      const syncReauth = () => {
        reauthWarning.hidden = !(controls.secret.value !== ''
          || controls.client_id.value.trim() !== (mb.client_id || '')
          || controls.tenant_id.value.trim() !== (mb.tenant_id || '')
          || controls.shared_address.value.trim().toLowerCase() !== (mb.shared_address || '').toLowerCase());
      };
      for (const c of watched) c.addEventListener('input', syncReauth);
    }

    // -- errors
    const formError = h('div', { id: 'form-error', class: 'form-error', tabindex: '-1', hidden: true, role: 'alert' });

    const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'mb-save' }, editing ? 'Save changes' : 'Create mailbox');

    const form = h('form', { class: 'mailbox-form', id: 'mailbox-form', novalidate: true, autocomplete: 'off' },
      formError,
      h('fieldset', { class: 'card' },
        h('legend', { text: 'Mailbox' }),
        field('mb-name', 'Name', controls.name, 'A name for agents, e.g. Support or Billing. Must be unique.', { required: true }),
        field('mb-type', 'Connection type', controls.type, 'Office 365/Azure: Microsoft 365 mail through Microsoft Graph, scanned every minute.')),
      h('fieldset', { class: 'card' },
        h('legend', { text: 'Azure app registration' }),
        h('p', { class: 'legend-help', text: 'From the app you registered in Azure (Microsoft Entra ID › App registrations). “Register these in Azure” lists what that app needs.' }),
        field('mb-client-id', 'Client ID', controls.client_id,
          h('span', null, 'The app’s ', strong('Application (client) ID'), ', on its Overview page in Azure.'),
          { required: true, after: clientHint, extraDescribedBy: 'mb-client-id-hint' }),
        field('mb-tenant-id', 'Tenant ID', controls.tenant_id,
          h('span', null, 'The ', strong('Directory (tenant) ID'), ', on the same Overview page. Your domain (contoso.onmicrosoft.com) works too.'),
          { required: true }),
        field('mb-secret', 'Client secret', controls.secret,
          h('span', null, 'Paste the secret’s ', strong('Value'), ', not the Secret ID. Find it under Certificates & secrets › Client secrets; Azure shows the Value only once, right after you create the secret.',
            editing && mb.secret_set ? ' Leave this empty to keep the current secret.' : ''),
          {
            required: !(editing && mb.secret_set),
            before: secretStatus,
            after: h('div', { class: 'inline-actions' }, showSecretBtn, secretHint),
            extraDescribedBy: [secretStatus ? 'mb-secret-status' : null, 'mb-secret-hint'].filter(Boolean).join(' '),
          }),
        field('mb-secret-expires', 'Secret expires on', controls.secret_expires_on,
          'The expiry you chose when creating the secret. Renew it in Azure before then and paste the new Value here.',
          { optional: true }),
        field('mb-cloud', 'Microsoft cloud', controls.cloud,
          'Where the tenant lives. Almost every tenant, GCC included, is Global.')),
      h('fieldset', { class: 'card' },
        h('legend', { text: 'Shared mailbox' }),
        field('mb-shared-address', 'Shared mailbox address', controls.shared_address,
          'Only for a shared mailbox: its full address. Leave empty for a licensed mailbox (the one that signs in).',
          { optional: true, after: sharedNote, extraDescribedBy: 'mb-shared-note' })),
      h('fieldset', { class: 'card' },
        h('legend', { text: 'Processing' }),
        field('mb-processed-action', 'After a message becomes a ticket', controls.processed_action,
          'Move to Deleted Items is the usual choice: to process a message again, move it back to the Inbox.'),
        folderField,
        field('mb-quarantine-folder', 'Quarantine folder', controls.quarantine_folder,
          'Mail that fails 5 times is moved here, next to the Inbox, so it never blocks the mailbox; Retry in the incoming email log brings it back.',
          { required: true }),
        field('mb-first-scan', 'First scan', controls.first_scan,
          'Which mail the first scan after authorizing picks up.',
          { after: firstScanWarning, extraDescribedBy: 'mb-first-scan-warning' }),
        h('div', { class: 'field field-check', id: 'mb-ack-enabled-field' },
          controls.ack_enabled,
          h('label', { htmlFor: 'mb-ack-enabled', text: 'Send an acknowledgement for new tickets' }),
          h('p', { class: 'help', id: 'mb-ack-enabled-help', text: 'A short reply to the sender with the ticket number. Auto-replies, mailing lists and mail from other connected mailboxes never get one.' })),
        ackSettings),
      reauthWarning,
      h('div', { class: 'form-actions' },
        saveBtn,
        h('a', { class: 'btn btn-quiet', href: '#/mailboxes', id: 'mb-cancel' }, 'Cancel'),
        h('span', { class: 'form-actions-note', text: '* required' })));
    controls.ack_enabled.setAttribute('aria-describedby', 'mb-ack-enabled-help');

    // -- submit
    function payload() {
      const p = {
        name: controls.name.value.trim(),
        type: controls.type.value,
        client_id: controls.client_id.value.trim(),
        tenant_id: controls.tenant_id.value.trim(),
        secret_expires_on: controls.secret_expires_on.value || null,
        shared_address: controls.shared_address.value.trim(),
        cloud: controls.cloud.value,
        processed_action: controls.processed_action.value,
        processed_folder: controls.processed_action.value === 'move_to_folder' ? controls.processed_folder.value.trim() : null,
        quarantine_folder: controls.quarantine_folder.value.trim(),
        first_scan: controls.first_scan.value,
        ack_enabled: controls.ack_enabled.checked,
      };
      if (controls.ack_enabled.checked) {
        p.ack_subject = controls.ack_subject.value;
        p.ack_body = controls.ack_body.value.trim() === '' ? null : controls.ack_body.value;
        const n = Number(controls.ack_per_hour.value);
        p.ack_per_hour = controls.ack_per_hour.value.trim() !== '' && Number.isInteger(n) ? n : controls.ack_per_hour.value;
      }
      // Secret is write-only: empty on edit means "keep". On create, send what
      // was typed (even empty) and let the server name the problem.
      const secret = controls.secret.value;
      if (secret !== '' || !editing) p.secret = secret.trim();
      if (editing) {
        // PATCH only what changed: an untouched field is never re-validated
        // (e.g. an expiry date that has passed since it was saved).
        for (const k of Object.keys(p)) {
          if (k !== 'secret' && sameValue(p[k], mb[k])) delete p[k];
        }
      }
      return p;
    }

    function sameValue(a, b) {
      const norm = (v) => (v === null || v === undefined ? '' : v);
      return norm(a) === norm(b);
    }

    function clearErrors() {
      formError.hidden = true;
      formError.replaceChildren();
      for (const el of form.querySelectorAll('.field-error')) el.remove();
      for (const el of form.querySelectorAll('[aria-invalid]')) {
        el.removeAttribute('aria-invalid');
        const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
        if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
        else el.removeAttribute('aria-describedby');
      }
      for (const el of form.querySelectorAll('.field.has-error')) el.classList.remove('has-error');
    }

    function fieldError(fieldName, message) {
      const controlId = FIELD_IDS[fieldName];
      const control = controlId ? $(controlId) : null;
      if (!control) return null;
      const wrap = $(controlId + '-field');
      if (wrap && wrap.hidden) wrap.hidden = false;
      const errId = controlId + '-error';
      let el = $(errId);
      if (el) {
        el.textContent = el.textContent + ' ' + message;
      } else {
        el = h('p', { class: 'field-error', id: errId, dataset: { field: fieldName }, text: message });
        // Directly under the control (after any inline actions attached to it).
        const anchor = control.nextElementSibling && control.nextElementSibling.classList.contains('inline-actions')
          ? control.nextElementSibling : control;
        if (control.type === 'checkbox' && wrap) wrap.appendChild(el);
        else anchor.insertAdjacentElement('afterend', el);
      }
      control.setAttribute('aria-invalid', 'true');
      const ids = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      if (!ids.includes(errId)) control.setAttribute('aria-describedby', [errId].concat(ids).join(' '));
      if (wrap) wrap.classList.add('has-error');
      const hint = $(controlId + '-hint');
      if (hint) hint.hidden = true; // the server's message replaces the local hint
      return control;
    }

    function showProblem(err) {
      const p = err.problem || {};
      const errors = Array.isArray(p.errors) ? p.errors.filter((e) => e && typeof e === 'object') : [];
      const summary = [];
      if (err.status === 409 && errors.length === 0) {
        errors.push({ field: 'name', message: p.detail || 'A mailbox with this name already exists.' });
      }
      for (const e of errors) {
        const fname = String(e.field || '');
        const msg = String(e.message || 'Invalid value.');
        const control = fieldError(fname, msg);
        summary.push({ fname, msg, controlId: control ? control.id : null });
      }
      const titleText = err.status === 422 ? (p.title || 'Invalid input') : null;
      const box = problemBlock(err);
      if (titleText) box.querySelector('.problem-title').textContent = titleText;
      if (summary.length) {
        const ul = h('ul', { class: 'problem-list' });
        for (const s of summary) {
          const label = s.controlId ? labelText(s.controlId) : s.fname;
          ul.appendChild(h('li', null,
            s.controlId
              ? h('a', {
                href: '#' + s.controlId,
                class: 'problem-field',
                text: label,
                onclick: (ev) => { ev.preventDefault(); const c = $(s.controlId); if (c) c.focus(); },
              })
              : (label ? h('span', { class: 'problem-field', text: label }) : null),
            label ? ': ' : '',
            h('span', { text: s.msg })));
        }
        box.appendChild(ul);
      }
      replace(formError, box);
      formError.hidden = false;
      // Focus the summary (it links to each field), like an error summary should.
      formError.scrollIntoView({ block: 'start' });
      formError.focus({ preventScroll: true });
      announce(titleText || (p.title || 'The mailbox was not saved.'));
    }

    function labelText(controlId) {
      const l = form.querySelector('label[for="' + controlId + '"]');
      if (!l) return '';
      return (l.firstChild && l.firstChild.nodeType === Node.TEXT_NODE ? l.firstChild.textContent : l.textContent).trim();
    }

    let busy = false;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (busy) return;
      busy = true;
      clearErrors();
      saveBtn.disabled = true;
      saveBtn.textContent = 'Saving…';
      const body = payload();
      if (editing && Object.keys(body).length === 0) {
        state.flash = { kind: 'info', text: 'No changes to save for “' + mb.name + '”.' };
        go('#/mailboxes');
        return;
      }
      try {
        const r = editing
          ? await api('PATCH', '/api/mailboxes/' + encodeURIComponent(mb.id), body, { ifMatch: mb._etag })
          : await api('POST', '/api/mailboxes', body);
        if (!ctx.alive()) return;
        const saved = r.data || {};
        const name = saved.name || body.name;
        state.flash = { kind: 'ok', text: editing ? 'Changes to “' + name + '” saved.' : 'Mailbox “' + name + '” created.' };
        announce(state.flash.text);
        go('#/mailboxes');
      } catch (err) {
        if (!ctx.alive() || err.handled) return;
        busy = false;
        saveBtn.disabled = false;
        saveBtn.textContent = editing ? 'Save changes' : 'Create mailbox';
        showProblem(err);
      }
    });

    const side = h('aside', { class: 'side-col' },
      connectionPanel(ctx, mb, editing, controls),
      azure.node,
      editing ? dangerZone(ctx, mb) : null);

    return h('div', { class: 'form-layout' }, h('div', { class: 'form-col' }, form), side);
  }

  // ---------------------------------------------------- connection panel

  /* The connection status of a mailbox and what can be done about it.
   * connect.js (window.postdeskConnection) draws the panel: Authorize
   * Application / Reauthorise, Disconnect, Test connection, the first-scan
   * policy, the last error.  Without it, a read-only panel. */
  function connectionActions(mb, editing) {
    void mb;
    void editing;
    return [];
  }

  function connectionPanel(ctx, mb, editing, controls) {
    const ext = window.postdeskConnection;
    if (ext && typeof ext.panel === 'function') {
      return ext.panel({
        ctx, mb, editing, h, api, replace, problemBlock, fmtTime, announce,
        onLeave: (fn) => cleanups.push(fn),
        // A change made from the panel (first_scan) shows in the form too.
        mailboxChanged(fresh) {
          const sel = controls && controls.first_scan;
          if (sel && fresh.first_scan && sel.value !== fresh.first_scan) {
            sel.value = fresh.first_scan;
            sel.dispatchEvent(new Event('change'));
          }
        },
      });
    }
    const actions = connectionActions(mb, editing);
    const panel = h('section', { class: 'card panel', id: 'mb-connection', 'aria-labelledby': 'mb-connection-title' },
      h('h2', { id: 'mb-connection-title', text: 'Connection' }),
      h('p', { class: 'status-line' },
        h('span', { class: 'muted', text: 'Status: ' }),
        h('span', { id: 'mb-status' }, statusBadge(editing ? (mb.status || 'not_connected') : 'not_connected'))));
    const conn = editing && mb.connection && typeof mb.connection === 'object' ? mb.connection : null;
    if (conn && conn.account) {
      panel.appendChild(h('p', { class: 'small', id: 'mb-connection-account' },
        'Signed in as ', strong(String(conn.account)),
        conn.connected_at ? ' since ' + fmtTime(conn.connected_at) : ''));
    }
    const lastError = editing && mb.last_error && typeof mb.last_error === 'object' ? mb.last_error : null;
    if (lastError) {
      panel.appendChild(h('div', { class: 'problem', id: 'mb-last-error', role: 'note' },
        h('p', { class: 'problem-title', text: lastError.code ? 'Last error: ' + lastError.code : 'Last error' }),
        lastError.message ? h('p', { class: 'problem-detail', text: String(lastError.message) }) : null,
        lastError.guidance ? h('p', { class: 'problem-guidance' }, strong('What to do: '), String(lastError.guidance)) : null,
        lastError.at ? h('p', { class: 'problem-ref', text: fmtTime(lastError.at) }) : null));
    }
    if (actions.length) {
      panel.appendChild(h('div', { class: 'panel-actions', id: 'mb-connection-actions' },
        actions.map((a) => h('button', { type: 'button', class: ['btn', a.primary ? 'btn-primary' : 'btn-quiet'], id: a.id, onclick: a.run }, a.label))));
    } else {
      panel.appendChild(h('div', { class: 'panel-actions', id: 'mb-connection-actions' },
        h('span', { class: 'btn btn-placeholder', 'aria-disabled': 'true', id: 'mb-authorize-placeholder', text: 'Authorize Application' })));
      panel.appendChild(h('p', { class: 'muted small', id: 'mb-authorize-note',
        text: editing ? 'Authorize Application arrives in the next version of postdesk.' : 'Authorize Application arrives once the mailbox is saved.' }));
    }
    panel.appendChild(h('p', { class: 'small muted', text: 'Authorizing sends you to Microsoft to sign in as the mailbox user (for a shared mailbox: a delegate of it). Only then does postdesk start scanning.' }));
    return panel;
  }

  // ------------------------------------------------------- Azure panel

  function copyButton(getText, label, text) {
    const idle = text || 'Copy';
    const btn = h('button', { type: 'button', class: 'btn btn-small btn-copy', 'aria-label': label }, idle);
    let timer = null;
    cleanups.push(() => { if (timer) window.clearTimeout(timer); });
    function done(text) {
      btn.textContent = text;
      btn.classList.add('copied');
      announce(text);
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(() => { btn.textContent = idle; btn.classList.remove('copied'); }, 2000);
    }
    btn.addEventListener('click', async () => {
      const { text, node } = getText();
      try {
        if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
        await navigator.clipboard.writeText(text);
        done('Copied');
      } catch (e) {
        // Fallback: select the text so Ctrl+C / ⌘C copies it.
        const sel = window.getSelection();
        const range = document.createRange();
        range.selectNodeContents(node);
        sel.removeAllRanges();
        sel.addRange(range);
        let ok = false;
        try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
        done(ok ? 'Copied' : 'Selected: press Ctrl+C');
      }
    });
    return btn;
  }

  function permissionItem(name) {
    return h('li', { class: 'perm', dataset: { permission: name } },
      h('code', { class: 'perm-name', text: name }),
      PERMISSION_NOTES[name] ? h('span', { class: 'perm-note', text: PERMISSION_NOTES[name] }) : null);
  }

  function azurePanel(mb, setup, setupError, editing) {
    setup = setup || {};
    const uris = (editing && Array.isArray(mb.redirect_uris) && mb.redirect_uris.length)
      ? mb.redirect_uris
      : (Array.isArray(setup.redirect_uris) ? setup.redirect_uris : []);
    const perms = setup.permissions || {};
    let licensed = Array.isArray(perms.licensed) ? perms.licensed : null;
    let shared = Array.isArray(perms.shared) ? perms.shared : null;
    if (!licensed || !shared) {
      const own = editing && Array.isArray(mb.permissions) ? mb.permissions : null;
      if (own && own.length) {
        licensed = licensed || own.filter((p) => !/\.Shared$/.test(p));
        shared = shared || (own.some((p) => /\.Shared$/.test(p)) ? own.filter((p) => /\.Shared$/.test(p)) : FALLBACK_SHARED);
      }
      licensed = licensed || FALLBACK_LICENSED;
      shared = shared || FALLBACK_SHARED;
    }

    const uriSteps = ['Web platform redirect URI, entered at New registration (Single tenant):',
      'Then, on the Authentication tab, add this second redirect URI and save:'];
    const uriList = h('ol', { class: 'uri-list' });
    uris.forEach((u, i) => {
      const code = h('code', { class: 'redirect-uri', text: u });
      uriList.appendChild(h('li', { class: 'uri-item' },
        h('p', { class: 'small', text: uriSteps[i] || 'Redirect URI:' }),
        h('div', { class: 'copy-row' }, code,
          copyButton(() => ({ text: u, node: code }), 'Copy redirect URI ' + (i + 1)))));
    });

    const licensedList = h('ul', { class: 'perm-list', id: 'perm-licensed' }, licensed.map(permissionItem));
    const sharedBlock = h('div', { id: 'perm-shared-block', class: 'perm-shared' },
      h('p', { class: 'small', text: 'For a shared mailbox, also:' }),
      h('ul', { class: 'perm-list', id: 'perm-shared' }, shared.map(permissionItem)));
    const sharedOff = h('p', { class: 'small muted', id: 'perm-shared-off', text: 'Mail.ReadWrite.Shared and Mail.Send.Shared are needed only for a shared mailbox (fill in its address to include them).' });

    let sharedOn = false;
    const permsText = h('span', { class: 'visually-hidden' });
    function currentPerms() { return licensed.concat(sharedOn ? shared : []); }

    const node = h('section', { class: 'card panel', id: 'azure-setup', 'aria-labelledby': 'azure-setup-title' },
      h('h2', { id: 'azure-setup-title', text: 'Register these in Azure' }),
      setupError ? problemBlock(setupError) : null,
      h('p', { class: 'small', text: 'In the Azure portal: Microsoft Entra ID › App registrations › New registration. One app can serve several mailboxes, or use one per mailbox.' }),
      h('h3', { text: '1. Redirect URIs' }),
      uris.length ? uriList : h('p', { class: 'muted small', text: 'Redirect URIs could not be loaded.' }),
      h('h3', { text: '2. Client ID, Tenant ID and secret' }),
      h('p', { class: 'small', text: 'From the app’s Overview page copy the Application (client) ID and the Directory (tenant) ID. Under Certificates & secrets create a client secret and copy its Value (not the Secret ID) — it is shown only once.' }),
      h('h3', { text: '3. API permissions' }),
      h('p', { class: 'small' }, 'Add a permission › ', strong('Microsoft Graph'), ' › ', strong('Delegated permissions'), ':'),
      licensedList,
      sharedBlock,
      sharedOff,
      h('div', { class: 'copy-row copy-row-end' },
        permsText,
        copyButton(() => { permsText.textContent = currentPerms().join(' '); return { text: currentPerms().join(' '), node: permsText }; },
          'Copy the permission names', 'Copy permission names')),
      h('h3', { text: '4. Grant admin consent' }),
      h('p', { class: 'small', id: 'azure-consent' }, 'Click ', strong('Grant admin consent'), ' at the top of the API permissions list, for all of them — whatever Azure suggests. Without it, authorizing fails.'));

    return {
      node,
      setShared(on) {
        sharedOn = on;
        sharedBlock.hidden = !on;
        sharedOff.hidden = on;
      },
    };
  }

  // ------------------------------------------------------------- delete

  function dangerZone(ctx, mb) {
    const btn = h('button', { type: 'button', class: 'btn btn-danger', id: 'mb-delete' }, 'Delete mailbox');
    btn.addEventListener('click', () => confirmDelete(ctx, mb, btn));
    return h('section', { class: 'card panel danger-zone', id: 'mb-danger', 'aria-labelledby': 'mb-danger-title' },
      h('h2', { id: 'mb-danger-title', text: 'Delete' }),
      h('p', { class: 'small', text: 'postdesk stops scanning this mailbox and forgets its secret and tokens. Tickets already created stay. The app registration in Azure is not touched.' }),
      btn);
  }

  function confirmDelete(ctx, mb, opener) {
    const errorSlot = h('div', { id: 'confirm-error' });
    const yes = h('button', { type: 'button', class: 'btn btn-danger', id: 'confirm-delete' }, 'Delete mailbox');
    const no = h('button', { type: 'button', class: 'btn btn-quiet', id: 'confirm-cancel' }, 'Cancel');
    const dialog = h('dialog', { class: 'dialog', id: 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
      h('h2', { id: 'confirm-title', text: 'Delete mailbox “' + mb.name + '”?' }),
      h('p', { id: 'confirm-text', text: 'postdesk stops scanning it and forgets its secret and tokens. Tickets already created stay. This cannot be undone.' }),
      errorSlot,
      h('div', { class: 'dialog-actions' }, no, yes));
    function close() {
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener && document.body.contains(opener)) opener.focus();
    }
    cleanups.push(() => { if (dialog.open) dialog.close(); dialog.remove(); });
    no.addEventListener('click', close);
    dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(); });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      yes.textContent = 'Deleting…';
      try {
        await api('DELETE', '/api/mailboxes/' + encodeURIComponent(mb.id));
        if (!ctx.alive()) return;
        state.flash = { kind: 'ok', text: 'Mailbox “' + mb.name + '” deleted.' };
        dialog.close();
        dialog.remove();
        go('#/mailboxes');
      } catch (err) {
        if (!ctx.alive() || err.handled) return;
        if (err.status === 404) {
          state.flash = { kind: 'info', text: 'Mailbox “' + mb.name + '” was already deleted.' };
          dialog.close();
          dialog.remove();
          go('#/mailboxes');
          return;
        }
        yes.disabled = false;
        no.disabled = false;
        yes.textContent = 'Delete mailbox';
        replace(errorSlot, problemBlock(err));
      }
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    no.focus();
  }

  // --------------------------------------------------------------- boot

  function bootError(err) {
    const app = $('app');
    const retry = h('button', { type: 'button', class: 'btn btn-primary', id: 'boot-retry', onclick: boot }, 'Try again');
    replace(app, h('main', { class: 'login-page', id: 'main', tabindex: '-1' },
      h('div', { class: 'login-card' },
        h('h1', { class: 'login-title', id: 'page-title', text: 'postdesk is not available' }),
        problemBlock(err, { id: 'boot-error' }),
        retry)));
  }

  async function boot() {
    try {
      const r = await api('GET', '/api/session', undefined, { allow401: true });
      acceptSession(r.data);
    } catch (err) {
      if (err.status !== 401) { bootError(err); return; }
      state.agent = null;
      state.csrf = null;
    }
    render();
  }

  document.addEventListener('click', (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest('a.skip-link') : null;
    if (!a) return;
    ev.preventDefault();
    const main = $('main');
    if (main) main.focus();
  });

  /* The helpers other portal scripts build on.  postdesk.page({name,
   * match(parts) -> {…}|null, view(ctx, main, route), nav: {href, id,
   * text}}) adds a page under Configuration > Email. */
  window.postdesk = Object.freeze({
    page(p) {
      pages.push(p);
      // A page asked for before its script ran showed "not found": retry.
      if (started && state.agent && parseRoute().name === p.name) render();
    },
    h, api, replace, breadcrumb, pageHeading, setTitle, focusHeading, problemBlock,
    loading, takeFlash, field, options, fmtTime, go,
    agent: () => state.agent,
    flash(kind, text) { state.flash = { kind, text }; },
    onLeave(fn) { cleanups.push(fn); },
  });

  let started = false;
  function start() {
    if (started) return;
    started = true;
    window.addEventListener('hashchange', () => {
      if (location.hash === '#main') return;
      render();
    });
    boot();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
