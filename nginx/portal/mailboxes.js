/* postdesk portal — Mailbox Setup (#/mailboxes): the list of mailboxes with
 * their status, secret expiry and scan health; the page also holds the
 * mailbox form (#/mailboxes/new, #/mailboxes/ID, mailbox_form.js).
 * What both need is window.postdeskMailbox.  Admins only: an agent sees why.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const { h, api, replace } = pd;
  const F = window.postdeskFmt;

  const MAILBOX_TYPES = [{ id: 'office365', name: 'Office 365/Azure' }];

  const STATUS = {
    not_connected: { text: 'Not connected', kind: 'neutral' },
    new: { text: 'Not connected', kind: 'neutral' },
    connected: { text: 'Connected', kind: 'ok' },
    error: { text: 'Error', kind: 'bad' },
    needs_reauth: { text: 'Needs reauthorization', kind: 'warn' },
    disconnected: { text: 'Disconnected', kind: 'neutral' },
  };

  function needsAdmin(main, what) {
    main.appendChild(h('div', { class: 'notice', id: 'needs-admin', role: 'note' },
      h('p', { class: 'notice-title', text: 'Mailbox setup needs an admin' }),
      h('p', { text: 'You are signed in as an agent. ' + what + ' Ask a postdesk administrator to add or change mailboxes.' })));
  }

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

  /* A mailbox on a certificate: its expiry, warned about like a secret's. */
  function certExpiryCell(mb) {
    const c = mb.certificate;
    if (!c) return h('span', { class: 'expiry expiry-warn', text: 'Certificate: none yet' });
    const day = String(c.expires_at || '').slice(0, 10);
    const d = daysUntil(day);
    if (d !== null && d < 0) return h('span', { class: 'expiry expiry-bad', text: 'Certificate ' + day + ' (expired)' });
    if (c.expiring) return h('span', { class: 'expiry expiry-warn', text: 'Certificate ' + day + ' (in ' + F.plural(d, 'day') + ')' });
    return h('span', { class: 'expiry', text: 'Certificate ' + day });
  }

  function expiryCell(mb) {
    if (mb.credential_type === 'certificate') return certExpiryCell(mb);
    if (!mb.secret_set) return h('span', { class: 'muted', text: 'No secret' });
    if (!mb.secret_expires_on) return h('span', { class: 'muted', text: 'Not recorded' });
    const d = daysUntil(mb.secret_expires_on);
    if (d !== null && d < 0) {
      return h('span', { class: 'expiry expiry-bad', text: mb.secret_expires_on + ' (expired)' });
    }
    if (expiringSoon(mb, d)) {
      return h('span', { class: 'expiry expiry-warn', text: mb.secret_expires_on + ' (in ' + F.plural(d, 'day') + ')' });
    }
    return h('span', { class: 'expiry', text: mb.secret_expires_on });
  }

  /* The scan health at a glance: last scan, mail waiting, last error. */
  function healthCell(mb) {
    const lines = [];
    if (mb.last_scan_at) {
      const ok = mb.last_success_at && mb.last_success_at === mb.last_scan_at;
      lines.push(h('span', { class: 'health-scan' }, 'Last scan ', F.time(mb.last_scan_at), ok ? '' : ' (failed)'));
      if (mb.last_success_at && !ok) lines.push(h('span', { class: 'health-success' }, 'Last success ', F.time(mb.last_success_at)));
    } else {
      lines.push(h('span', { class: 'muted health-scan', text: mb.status === 'connected' ? 'Not scanned yet' : 'Not scanning' }));
    }
    if (typeof mb.messages_waiting === 'number') {
      lines.push(h('span', { class: 'health-waiting', text: F.plural(mb.messages_waiting, 'message') + ' waiting' }));
    }
    // The error on one line, whole in the title with what to do.
    if (mb.last_error) {
      lines.push(h('span', { class: 'health-error trunc', title: mb.last_error.message + (mb.last_error.guidance ? ' — ' + mb.last_error.guidance : ''),
        text: mb.last_error.message }));
    }
    if (mb.attention > 0) lines.push(attentionLink(mb));
    return h('div', { class: 'health', dataset: { id: mb.id } }, lines);
  }

  /* "N mails need attention": failed or quarantined mail (the mailbox's
   * `attention`), linking to exactly those rows of the incoming email log. */
  function attentionLink(mb) {
    const n = mb.attention;
    return h('a', { class: 'health-attention', href: '#/incoming?mailbox=' + encodeURIComponent(mb.id) + '&attention=true',
      text: F.plural(n, 'mail') + (n === 1 ? ' needs attention' : ' need attention') });
  }

  function typeName(id) {
    const t = MAILBOX_TYPES.find((x) => x.id === id);
    return t ? t.name : String(id || '');
  }

  function mailboxRow(mb) {
    return h('tr', { class: 'mailbox-row', dataset: { id: mb.id } },
      h('td', { class: 'cell-name' }, h('a', { href: '#/mailboxes/' + encodeURIComponent(mb.id), class: 'mailbox-link', text: mb.name })),
      h('td', { class: 'cell-type', 'data-label': 'Type', text: typeName(mb.type) }),
      h('td', { class: 'cell-shared', 'data-label': 'Shared mailbox' },
        mb.shared_address ? h('span', { class: 'trunc', title: mb.shared_address, text: mb.shared_address }) : h('span', { class: 'muted', text: 'Licensed mailbox' })),
      h('td', { class: 'cell-status', 'data-label': 'Status' }, statusBadge(mb.status)),
      h('td', { class: 'cell-expiry', 'data-label': 'Credential expires' }, expiryCell(mb)),
      h('td', { class: 'cell-health', 'data-label': 'Scanning' }, healthCell(mb)));
  }

  function mailboxTable(items) {
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'mailbox-table' },
        h('caption', { class: 'visually-hidden', text: 'Mailboxes' }),
        h('thead', null, h('tr', null,
          ['Name', 'Type', 'Shared mailbox', 'Status', 'Credential expires', 'Scanning'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, items.map(mailboxRow))));
  }

  function noMailboxes() {
    return h('div', { class: 'empty', id: 'mailbox-empty' },
      h('p', { class: 'empty-title', text: 'No mailboxes yet' }),
      h('p', { class: 'muted', text: 'Add an Office 365/Azure mailbox: the scanner polls its Inbox every scan_interval seconds (postdesk.conf; 5 by default) and turns each message into a ticket.' }),
      h('a', { class: 'btn btn-primary', href: '#/mailboxes/new' }, 'Add the first mailbox'));
  }

  async function viewList(ctx, main) {
    pd.setTitle('Mailbox Setup');
    const isAdmin = pd.agent().role === 'admin';
    replace(main,
      pd.breadcrumb([{ text: 'Configuration' }, { text: 'Email' }, { text: 'Mailbox Setup' }]),
      pd.pageHeading('Mailbox Setup', isAdmin
        ? h('a', { class: 'btn btn-primary', id: 'mailbox-new', href: '#/mailboxes/new' }, 'New mailbox')
        : null),
      pd.takeFlash());
    pd.focusHeading();
    if (!isAdmin) {
      needsAdmin(main, 'Mailbox setup changes how mail becomes tickets.');
      return;
    }
    const slot = h('div', { id: 'mailbox-list-slot' }, pd.loading('Loading mailboxes…'));
    main.appendChild(slot);
    let items;
    try {
      const r = await api('GET', '/api/mailboxes');
      items = (r.data && Array.isArray(r.data.items)) ? r.data.items : [];
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, pd.problemBlock(err, { id: 'list-error' }));
      return;
    }
    if (!ctx.alive()) return;
    replace(slot, items.length === 0 ? noMailboxes() : mailboxTable(items));
  }

  window.postdeskMailbox = Object.freeze({ MAILBOX_TYPES, STATUS, needsAdmin, daysUntil, expiringSoon });

  pd.page({
    name: 'mailboxes',
    nav: { href: '#/mailboxes', id: 'nav-mailboxes', text: 'Mailbox Setup' },
    match(parts) {
      if (parts[0] !== 'mailboxes') return null;
      if (parts.length === 1) return { view: 'list' };
      if (parts.length === 2 && parts[1] === 'new') return { view: 'form', id: null };
      if (parts.length === 2 && /^[1-9][0-9]{0,17}$/.test(parts[1])) return { view: 'form', id: parts[1] };
      return null;
    },
    view(ctx, main, route) {
      if (route.view === 'list') viewList(ctx, main);
      else window.postdeskMailboxForm.view(ctx, main, route.id);
    },
  });
}());
