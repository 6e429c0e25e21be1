/* postdesk portal — the Connection panel of the mailbox page.
 *
 * Authorize Application / Reauthorize, Disconnect, Test connection, the
 * first-scan policy after connecting, the last error with its guidance and,
 * before the first authorization, a checklist; for a mailbox never
 * connected, a "Next: Authorize Application" card for the top of the page.
 * mailbox_form.js calls window.postdeskConnection.panel({ctx, mb, editing,
 * mailboxChanged}) -> {node, next}.
 *
 * Back from Microsoft: the browser may restore this page from its
 * back-forward cache as it was when it left, the Authorize button busy;
 * `pageshow` with `persisted` then makes the panel usable again and reads
 * the mailbox afresh (a normal load draws it afresh anyway).
 *
 * Same rules as every portal script (dom.js): DOM by createElement/
 * textContent only (account names, error messages and guidance come from
 * Microsoft and users), no inline styles, every change through api()
 * (X-CSRF-Token).
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const { h, api, replace, strong, announce } = pd;
  const { time } = window.postdeskFmt;
  const { STATUS } = window.postdeskMailbox;

  // Errors Microsoft shows on its own page (the browser never comes back).
  const MS_PAGE_ERRORS = [
    ['AADSTS50011', 'the redirect URI is not registered exactly as postdesk sends it. Add both redirect URIs from “Register these in Azure” to the app (Authentication › Web), character for character.'],
    ['AADSTS700016', 'the Client ID is not an app in this tenant. Copy the Application (client) ID from the app’s Overview page again, and check the Tenant ID is the app’s directory.'],
    ['AADSTS90002', 'the tenant was not found. Check the Tenant ID (Directory ID or domain) and the Microsoft cloud.'],
    ['AADSTS90094', 'an administrator has to approve the permissions. In Azure, API permissions › Grant admin consent, then authorize again.'],
  ];

  function badge(m) {
    const status = m.status || 'not_connected';
    const s = STATUS[status] || { text: String(status), kind: 'neutral' };
    const account = m.connection && m.connection.account;
    const text = status === 'connected' && account ? 'Connected as ' + account : s.text;
    return h('span', { class: ['badge', 'badge-' + s.kind], dataset: { status }, text });
  }

  function everConnected(m) {
    return !!(m.connection && m.connection.account) || ['connected', 'needs_reauth', 'disconnected'].includes(m.status);
  }

  function plural(n, one, many) { return n === 1 ? one : many; }

  // ---------------------------------------------------------------- parts
  // The panel's state, p: {ctx, editing, mb (the form's mailbox object,
  // updated in place), mailboxChanged, section, testResult (the last Test
  // connection answer), actionError (an ApiError of the last action), busy
  // (id of the button whose request is running)}.

  function lastErrorBlock(m) {
    const e = m.last_error && typeof m.last_error === 'object' ? m.last_error : null;
    if (!e) return null;
    return h('div', { class: 'problem connect-error', id: 'mb-last-error', role: 'alert' },
      h('p', { class: 'problem-title', id: 'mb-last-error-title',
        text: (m.status === 'connected' ? 'Last error' : 'Microsoft refused the connection') + (e.code ? ': ' + e.code : '') }),
      e.message ? h('p', { class: 'problem-detail', id: 'mb-last-error-message', text: String(e.message) }) : null,
      e.guidance ? h('p', { class: 'problem-guidance', id: 'mb-last-error-guidance' }, strong('What to do: '), String(e.guidance)) : null,
      e.at ? h('p', { class: 'problem-ref' }, time(e.at)) : null);
  }

  function connectionInfo(p, m) {
    const c = m.connection && typeof m.connection === 'object' ? m.connection : null;
    if (!c || !c.account) return null;
    const connected = m.status === 'connected';
    const out = h('div', { class: 'connect-info', id: 'mb-connection-info' },
      h('p', { class: 'small', id: 'mb-connection-account' },
        connected ? 'Connected as ' : 'Last connected as ', strong(String(c.account)),
        c.connected_at ? [' since ', time(c.connected_at)] : '',
        c.tenant_id ? h('span', { class: 'muted', text: ' (tenant ' + c.tenant_id + ')' }) : null));
    if (!connected) return out;
    const n = typeof c.inbox_count === 'number' ? c.inbox_count : null;
    const where = m.shared_address ? 'the Inbox of ' + m.shared_address : 'the Inbox';
    out.appendChild(firstScanBlock(p, m, n, where));
    return out;
  }

  /* The Inbox count (when connecting) and what the first scan does with it. */
  function firstScanBlock(p, m, n, where) {
    if (m.last_scan_at) {
      return h('p', { class: 'small muted', id: 'mb-first-scan-policy', dataset: { policy: m.first_scan || 'new_only' } },
        'The first scan has run (', time(m.last_scan_at), '): every new message in ' + where + ' becomes a ticket.');
    }
    if (m.first_scan === 'all') {
      return h('div', { class: 'warning', id: 'mb-first-scan-policy', role: 'note', dataset: { policy: 'all' } },
        h('p', null, h('strong', null, n === null ? 'Every message' : ['All ', h('span', { id: 'mb-inbox-count', text: String(n) }), ' ' + plural(n, 'message', 'messages')],
          ' already in ' + where + ' will become tickets'),
          ' on the first scan, as well as mail arriving from now on.'),
        actionButton(p, 'mb-first-scan-switch', 'Only take mail arriving from now on', 'btn btn-small',
          () => confirmFirstScan(p, 'new_only', n)));
    }
    const count = n === null ? ['The messages are']
      : [h('strong', { id: 'mb-inbox-count', text: String(n) }), ' ' + plural(n, 'message is', 'messages are')];
    return h('div', { class: 'callout', id: 'mb-first-scan-policy', dataset: { policy: 'new_only' } },
      h('p', null, count, ' already in ' + where + '. ', strong('Only mail arriving from now on becomes tickets.')),
      n === 0 ? null : actionButton(p, 'mb-first-scan-switch',
        n === null ? 'Import the existing messages as tickets…' : 'Make ' + plural(n, 'it', 'these ' + n) + ' tickets too…', 'btn btn-small',
        () => confirmFirstScan(p, 'all', n)));
  }

  function checklist(m) {
    const shared = !!m.shared_address;
    return h('div', { class: 'callout', id: 'mb-checklist' },
      h('p', { class: 'callout-title', text: 'Before you authorize' }),
      h('ul', null,
        h('li', null, 'Both ', strong('redirect URIs'), ' from “Register these in Azure” are registered on the app (Authentication › Web).'),
        h('li', null, 'The ', strong('API permissions'), ' are added and ', strong('Grant admin consent'), ' was clicked for all of them.'),
        h('li', null, 'The client secret saved here is the secret’s ', strong('Value'), ', not its Secret ID.'),
        shared
          ? h('li', { id: 'mb-checklist-shared' }, 'The user who signs in is a delegate of ', strong(m.shared_address), ' with ',
            strong('Read and manage'), ' and ', strong('Send as'), ', set in the ', strong('Microsoft 365 admin center'),
            ' (it can take a while to apply). Sign in as that user, not as the shared mailbox.')
          : h('li', null, 'You sign in as the mailbox user itself (a licensed mailbox).')));
  }

  function msPageHint(open) {
    const list = h('ul', { class: 'connect-codes' });
    for (const [code, text] of MS_PAGE_ERRORS) {
      list.appendChild(h('li', { dataset: { code } }, h('code', { text: code }), ' — ' + text));
    }
    return h('details', { class: 'connect-hint small', id: 'mb-ms-error-hint', open: open },
      h('summary', { text: 'Microsoft showed an error page?' }),
      h('p', { text: 'If Microsoft showed an error page instead of coming back here, look for the AADSTS code:' }),
      list);
  }

  function testCheck(c) {
    return h('li', { class: ['test-check', c.passed ? 'test-passed' : 'test-failed'], dataset: { passed: c.passed ? 'true' : 'false' } },
      h('span', { class: 'test-mark', 'aria-hidden': 'true', text: c.passed ? '✓' : '✗' }),
      h('span', { class: 'visually-hidden', text: c.passed ? 'Passed: ' : 'Failed: ' }),
      h('span', { class: 'test-name', text: String(c.check || '') }),
      c.detail ? h('span', { class: 'test-detail', text: ' — ' + c.detail }) : null,
      !c.passed && (c.title || c.guidance)
        ? h('div', { class: 'test-guidance' },
          c.title ? h('p', { class: 'test-title', text: String(c.title) }) : null,
          c.guidance ? h('p', null, strong('What to do: '), String(c.guidance)) : null)
        : null);
  }

  function testBlock(res) {
    if (!res) return null;
    const checks = Array.isArray(res.checks) ? res.checks : [];
    const failed = checks.filter((c) => !c.passed).length;
    return h('div', { class: ['test-result', res.passed ? 'test-ok' : 'test-bad'], id: 'mb-test-result', role: 'status' },
      h('p', { class: 'test-summary', id: 'mb-test-summary',
        text: res.passed ? 'All ' + checks.length + ' checks passed.' : failed + ' of ' + checks.length + ' checks failed.' }),
      h('ul', { class: 'test-checks' }, checks.map(testCheck)));
  }

  function actionButton(p, id, label, cls, run) {
    const b = h('button', { type: 'button', class: cls, id, disabled: p.busy !== null }, p.busy === id ? label.replace(/…$/, '') + '…' : label);
    b.addEventListener('click', run);
    return b;
  }

  // ----------------------------------------------------------------- draw

  function actions(p) {
    const m = p.mb;
    const row = h('div', { class: 'panel-actions connect-actions', id: 'mb-connection-actions' });
    if (!p.editing) {
      row.appendChild(h('span', { class: 'btn btn-placeholder', 'aria-disabled': 'true', id: 'mb-authorize-placeholder', text: 'Authorize Application' }));
      return row;
    }
    const again = everConnected(m);
    row.appendChild(actionButton(p, 'mb-authorize', again ? 'Reauthorize' : 'Authorize Application',
      ['btn', again && m.status === 'connected' ? 'btn-quiet' : 'btn-primary'], () => authorize(p, 'mb-authorize')));
    if (m.status === 'connected') {
      row.appendChild(actionButton(p, 'mb-test', 'Test connection', 'btn', () => testConnection(p)));
    }
    if (m.status === 'connected' || m.status === 'needs_reauth' || m.status === 'error') {
      row.appendChild(actionButton(p, 'mb-disconnect', 'Disconnect…', 'btn btn-danger', () => confirmDisconnect(p)));
    }
    return row;
  }

  /* Before the first connection: what to do next, at the top of the page. */
  function drawNext(p) {
    const m = p.mb;
    const show = p.editing && m.status === 'not_connected' && !everConnected(m);
    p.next.hidden = !show;
    if (!show) { p.next.replaceChildren(); return; }
    replace(p.next,
      h('h2', { id: 'mb-next-title', text: 'One step left: connect it to Microsoft' }),
      h('p', { class: 'small', text: 'postdesk reads no mail from this mailbox until you authorize it: you sign in with Microsoft as the mailbox user (for a shared mailbox, a delegate of it). Check “Before you authorize” under Connection first.' }),
      h('div', { class: 'panel-actions' },
        actionButton(p, 'mb-next-authorize', 'Next: Authorize Application', 'btn btn-primary', () => authorize(p, 'mb-next-authorize'))));
  }

  function draw(p) {
    drawNext(p);
    const m = p.mb;
    const editing = p.editing;
    return replace(p.section,
      h('h2', { id: 'mb-connection-title', text: 'Connection' }),
      h('p', { class: 'status-line' },
        h('span', { class: 'muted', text: 'Status: ' }),
        h('span', { id: 'mb-status' }, badge(editing ? m : { status: 'not_connected' }))),
      editing ? lastErrorBlock(m) : null,
      p.actionError ? pd.problemBlock(p.actionError, { id: 'mb-connection-error' }) : null,
      editing ? connectionInfo(p, m) : null,
      editing && m.status === 'connected' ? window.postdeskPush.block(m) : null,
      editing && m.status === 'needs_reauth' && !m.last_error
        ? h('p', { class: 'warning', id: 'mb-reauth-note', text: 'The sign-in details changed or the token was refused: click Reauthorize and sign in again.' }) : null,
      actions(p),
      !editing ? h('p', { class: 'muted small', id: 'mb-authorize-note', text: 'Save the mailbox first; then Authorize Application appears here.' }) : null,
      testBlock(p.testResult),
      m.status === 'connected' ? null : checklist(editing ? m : {}),
      m.status === 'connected' ? null : msPageHint(!(editing && everConnected(m))),
      h('p', { class: 'small muted', text: 'Authorizing sends you to Microsoft to sign in as the mailbox user (for a shared mailbox: a delegate of it). Only then does postdesk start scanning.' }));
  }

  function update(p, fresh) {
    if (fresh && typeof fresh === 'object') {
      Object.assign(p.mb, fresh);
      if (p.mailboxChanged) p.mailboxChanged(p.mb);
    }
    draw(p);
  }

  async function reload(p) {
    try {
      const r = await api('GET', '/api/mailboxes/' + encodeURIComponent(p.mb.id));
      if (!p.ctx.alive()) return;
      update(p, r.data);
    } catch (err) {
      if (!p.ctx.alive() || err.handled) return;
      p.actionError = err;
      draw(p);
    }
  }

  function failed(p, err) {
    if (!p.ctx.alive() || err.handled) return;
    p.busy = null;
    p.actionError = err;
    draw(p);
    const box = document.getElementById('mb-connection-error');
    if (box) box.focus({ preventScroll: false });
    announce((err.problem && err.problem.title) || 'The request failed.');
  }

  function start(p, id) {
    p.busy = id;
    p.actionError = null;
    draw(p);
  }

  // -------------------------------------------------------------- actions

  async function authorize(p, id) {
    if (p.busy) return;
    start(p, id);
    try {
      const r = await api('POST', '/api/mailboxes/' + encodeURIComponent(p.mb.id) + '/authorize');
      if (!p.ctx.alive()) return;
      const url = r.data && r.data.authorize_url;
      if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) throw new Error('no authorize_url');
      announce('Going to Microsoft to sign in…');
      window.location.assign(url);
    } catch (err) {
      if (err instanceof Error && !('status' in err)) {
        err = { status: 0, problem: { title: 'Unexpected answer from the server', detail: 'No sign-in address came back. Try again.' } };
      }
      failed(p, err);
    }
  }

  async function testConnection(p) {
    if (p.busy) return;
    start(p, 'mb-test');
    p.testResult = null;
    draw(p);
    try {
      const r = await api('POST', '/api/mailboxes/' + encodeURIComponent(p.mb.id) + '/test');
      if (!p.ctx.alive()) return;
      p.busy = null;
      p.testResult = r.data || { passed: false, checks: [] };
      announce(p.testResult.passed ? 'All checks passed.' : 'Some checks failed.');
      await reload(p); // status or last_error may have changed
    } catch (err) {
      failed(p, err);
    }
  }

  /* A confirmation dialog whose action answers with the mailbox (o.run);
   * the panel then shows it and o.said is announced. */
  function confirmAction(p, o) {
    pd.confirmDialog(Object.assign({ ctx: p.ctx }, o, {
      done(fresh) {
        p.actionError = null;
        update(p, fresh);
        if (o.said) announce(o.said);
        const st = document.getElementById('mb-status');
        if (st) st.scrollIntoView({ block: 'nearest' });
      },
    }));
  }

  function confirmDisconnect(p) {
    if (p.busy) return;
    const mb = p.mb;
    const who = mb.connection && mb.connection.account ? ' (' + mb.connection.account + ')' : '';
    confirmAction(p, {
      title: 'Disconnect “' + (mb.name || 'this mailbox') + '”?',
      text: 'postdesk forgets the Microsoft tokens' + who + ' and stops scanning this mailbox. Tickets and settings stay. Reauthorize to connect it again.',
      yes: 'Disconnect', yesId: 'confirm-disconnect', busy: 'Disconnecting…', danger: true,
      said: 'Mailbox disconnected.',
      run: async () => {
        p.testResult = null;
        const r = await api('POST', '/api/mailboxes/' + encodeURIComponent(mb.id) + '/disconnect');
        return r.data;
      },
    });
  }

  /* The form on this page edits the version this PATCH makes (its If-Match). */
  async function setFirstScan(p, to) {
    const r = await api('PATCH', '/api/mailboxes/' + encodeURIComponent(p.mb.id), { first_scan: to });
    p.mb._etag = r.headers.get('ETag');
    return r.data;
  }

  function confirmFirstScan(p, to, n) {
    const many = n === null ? 'the messages' : n + ' ' + plural(n, 'message', 'messages');
    confirmAction(p, to === 'all'
      ? {
        title: 'Make ' + many + ' already in the Inbox tickets?',
        text: 'On the first scan, every message already in the Inbox becomes a ticket (and gets an acknowledgement if those are on), as well as new mail. Only do this if the Inbox holds nothing but mail you want as tickets.',
        yes: 'Import them as tickets', yesId: 'confirm-first-scan', busy: 'Saving…', danger: false,
        said: 'The first scan will import the existing messages.',
        run: () => setFirstScan(p, 'all'),
      }
      : {
        title: 'Only take mail arriving from now on?',
        text: 'The ' + many + ' already in the Inbox stay where they are and do not become tickets.',
        yes: 'Only new mail', yesId: 'confirm-first-scan', busy: 'Saving…', danger: false,
        said: 'Only mail arriving from now on becomes tickets.',
        run: () => setFirstScan(p, 'new_only'),
      });
  }

  /* Shown again from the back-forward cache (Back from Microsoft): the
   * Authorize button was left busy, and the mailbox may have changed. */
  function restored(p) {
    p.busy = null;
    p.actionError = null;
    draw(p);
    reload(p);
  }

  /* The panel for kit {ctx, mb (changed in place as the panel learns more),
   * editing, mailboxChanged(mb)}; redraws itself after each action.
   * Returns {node: the panel, next: the "Next: Authorize Application" card,
   * hidden unless the mailbox was never connected}. */
  function panel(kit) {
    const p = {
      ctx: kit.ctx, editing: kit.editing, mb: kit.mb || {}, mailboxChanged: kit.mailboxChanged,
      section: h('section', { class: 'card panel connect-panel', id: 'mb-connection', 'aria-labelledby': 'mb-connection-title' }),
      next: h('section', { class: 'card panel connect-next', id: 'mb-next-step', 'aria-labelledby': 'mb-next-title', hidden: true }),
      testResult: null, actionError: null, busy: null,
    };
    const onShow = (ev) => { if (ev.persisted && p.ctx.alive() && p.editing) restored(p); };
    window.addEventListener('pageshow', onShow);
    pd.onLeave(() => window.removeEventListener('pageshow', onShow));
    draw(p);
    return { node: p.section, next: p.next };
  }

  window.postdeskConnection = Object.freeze({ panel });
}());
