/* postdesk portal — Tickets (#/tickets, #/tickets/{id}).
 *
 * The ticket list (status, mailbox and text filters, cursor paging) and one
 * ticket: its conversation oldest first, attachments as download links, the
 * status.  Built on the helpers app.js exports as window.postdesk.  Every
 * subject, name, address and body here comes from mail and is hostile: it
 * reaches the page through textContent only (h()), never as markup.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  if (!pd) return;
  const { h, api, replace } = pd;

  const STATUSES = [
    { id: 'new', name: 'New' }, { id: 'open', name: 'Open' }, { id: 'pending', name: 'Pending' },
    { id: 'resolved', name: 'Resolved' }, { id: 'closed', name: 'Closed' },
  ];
  const STATUS_KIND = { new: 'warn', open: 'ok', pending: 'neutral', resolved: 'neutral', closed: 'neutral' };
  const ID_RE = /^[1-9][0-9]{0,17}$/;

  function statusName(id) {
    const s = STATUSES.find((x) => x.id === id);
    return s ? s.name : String(id || '');
  }

  function statusBadge(status) {
    return h('span', { class: ['badge', 'badge-' + (STATUS_KIND[status] || 'neutral')],
      dataset: { status: status || '' }, text: statusName(status) });
  }

  /* The query part of the hash route (#/tickets?status=open). */
  function hashQuery() {
    const i = location.hash.indexOf('?');
    return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
  }

  function listHash(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    const s = q.toString();
    return '#/tickets' + (s ? '?' + s : '');
  }

  function sizeText(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1048576).toFixed(1) + ' MB';
  }

  // ------------------------------------------------------------ the list

  async function mailboxOptions() {
    const agent = pd.agent();
    if (!agent || agent.role !== 'admin') return null; // the mailbox list is admin-only
    try {
      const r = await api('GET', '/api/mailboxes');
      return (r.data && r.data.items) || [];
    } catch (err) {
      return null;
    }
  }

  function filterForm(q, mailboxes) {
    const status = h('select', { id: 'tk-status', name: 'status' },
      h('option', { value: '', text: 'Any status' }), pd.options(STATUSES, q.get('status') || ''));
    const text = h('input', { id: 'tk-q', name: 'q', type: 'search', value: q.get('q') || '',
      maxlength: '200', placeholder: 'Subject or address' });
    const mailbox = mailboxes ? h('select', { id: 'tk-mailbox', name: 'mailbox' },
      h('option', { value: '', text: 'Any mailbox' }),
      mailboxes.map((m) => h('option', { value: String(m.id), selected: String(m.id) === q.get('mailbox'), text: m.name })))
      : null;
    const form = h('form', { class: 'filters', id: 'ticket-filters', role: 'search' },
      h('label', { htmlFor: 'tk-status', text: 'Status' }), status,
      mailbox ? h('label', { htmlFor: 'tk-mailbox', text: 'Mailbox' }) : null, mailbox,
      h('label', { htmlFor: 'tk-q', text: 'Search' }), text,
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'tk-apply' }, 'Filter'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      pd.go(listHash({ status: status.value, mailbox: mailbox ? mailbox.value : q.get('mailbox'), q: text.value.trim() }));
    });
    return form;
  }

  function ticketRow(t) {
    return h('tr', { class: 'ticket-row', dataset: { id: t.id } },
      h('td', { class: 'cell-id', 'data-label': '#', text: '#' + t.id }),
      h('td', { class: 'cell-subject', 'data-label': 'Subject' },
        h('a', { class: 'ticket-link', href: '#/tickets/' + encodeURIComponent(t.id), text: t.subject })),
      h('td', { class: 'cell-from', 'data-label': 'End user' },
        h('span', { text: t.end_user.name && t.end_user.name !== t.end_user.email ? t.end_user.name + ' <' + t.end_user.email + '>' : t.end_user.email })),
      h('td', { class: 'cell-status', 'data-label': 'Status' }, statusBadge(t.status)),
      h('td', { class: 'cell-mailbox', 'data-label': 'Mailbox', text: t.mailbox ? (t.mailbox.name || '') : '—' }),
      h('td', { class: 'cell-updated', 'data-label': 'Updated', text: pd.fmtTime(t.updated_at) }));
  }

  async function viewList(ctx, main) {
    pd.setTitle('Tickets');
    const q = hashQuery();
    replace(main, pd.breadcrumb([{ text: 'Tickets' }]), pd.pageHeading('Tickets'), pd.takeFlash());
    pd.focusHeading();
    const slot = h('div', { id: 'ticket-list-slot' }, pd.loading('Loading tickets…'));
    const mailboxes = await mailboxOptions();
    if (!ctx.alive()) return;
    main.appendChild(filterForm(q, mailboxes));
    main.appendChild(slot);
    const params = new URLSearchParams();
    for (const k of ['status', 'mailbox', 'q', 'cursor']) if (q.get(k)) params.set(k, q.get(k));
    params.set('limit', '50');
    let page;
    try {
      page = (await api('GET', '/api/tickets?' + params.toString())).data;
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, pd.problemBlock(err, { id: 'ticket-list-error' }));
      return;
    }
    if (!ctx.alive()) return;
    const items = (page && page.items) || [];
    const base = { status: q.get('status'), mailbox: q.get('mailbox'), q: q.get('q') };
    const nav = h('p', { class: 'inline-actions pager' },
      q.get('cursor') ? h('a', { class: 'btn btn-quiet', id: 'tk-first', href: listHash(base) }, 'First page') : null,
      page && page.next_cursor
        ? h('a', { class: 'btn btn-quiet', id: 'tk-next', href: listHash(Object.assign({ cursor: page.next_cursor }, base)) }, 'Next page')
        : null);
    if (items.length === 0) {
      replace(slot, h('div', { class: 'empty', id: 'ticket-empty' },
        h('p', { class: 'empty-title', text: 'No tickets' }),
        h('p', { class: 'muted', text: 'Nothing matches these filters. Mail to a connected mailbox becomes a ticket within a minute.' })), nav);
      return;
    }
    replace(slot, h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'ticket-table' },
        h('caption', { class: 'visually-hidden', text: 'Tickets' }),
        h('thead', null, h('tr', null,
          ['#', 'Subject', 'End user', 'Status', 'Mailbox', 'Updated'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, items.map(ticketRow)))), nav);
  }

  // ---------------------------------------------------------- one ticket

  function attachmentList(files) {
    if (!files || files.length === 0) return null;
    return h('ul', { class: 'attachment-list' }, files.map((f) => h('li', null,
      h('a', { class: 'attachment-link', href: f.url, download: f.name || 'attachment', rel: 'noopener', text: f.name || 'attachment' }),
      h('span', { class: 'muted', text: ' (' + sizeText(f.size) + (f.inline ? ', inline' : '') + ')' }))));
  }

  function actionCard(a) {
    if (a.kind === 'status') {
      return h('li', { class: 'conv-item conv-status', dataset: { id: a.id, kind: a.kind } },
        h('p', { class: 'muted small' },
          h('span', { text: pd.fmtTime(a.created_at) + ' — ' }), h('span', { class: 'conv-body', text: a.body || '' })));
    }
    const head = h('dl', { class: 'conv-head' },
      h('dt', { text: 'From' }), h('dd', { class: 'conv-from', text: a.from || '' }),
      a.to ? [h('dt', { text: 'To' }), h('dd', { class: 'conv-to', text: a.to })] : null,
      a.cc ? [h('dt', { text: 'Cc' }), h('dd', { class: 'conv-cc', text: a.cc })] : null,
      h('dt', { text: 'Date' }), h('dd', { class: 'conv-date', text: pd.fmtTime(a.created_at) }));
    return h('li', { class: 'conv-item card', dataset: { id: a.id, kind: a.kind } },
      h('p', { class: 'conv-subject', text: a.subject || '(no subject)' }),
      head,
      h('div', { class: 'conv-body', text: a.body || '' }),
      attachmentList(a.attachments));
  }

  function statusForm(ctx, t) {
    const sel = h('select', { id: 'tk-set-status' }, pd.options(STATUSES, t.status));
    const btn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'tk-save-status' }, 'Change status');
    const err = h('div', { id: 'tk-status-error' });
    const form = h('form', { class: 'status-form', id: 'ticket-status-form' },
      h('label', { htmlFor: 'tk-set-status', text: 'Status' }), sel, btn, err);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      btn.disabled = true;
      replace(err);
      try {
        await api('PATCH', '/api/tickets/' + encodeURIComponent(t.id), { status: sel.value });
        if (!ctx.alive()) return;
        pd.flash('ok', 'Status changed to ' + statusName(sel.value) + '.');
        pd.go('#/tickets/' + t.id);
      } catch (e) {
        btn.disabled = false;
        if (!ctx.alive() || e.handled) return;
        replace(err, pd.problemBlock(e));
      }
    });
    return form;
  }

  async function viewTicket(ctx, main, route) {
    pd.setTitle('Ticket #' + route.id);
    replace(main, pd.breadcrumb([{ text: 'Tickets', href: '#/tickets' }, { text: '#' + route.id }]),
      pd.loading('Loading ticket…'));
    let t;
    try {
      t = (await api('GET', '/api/tickets/' + encodeURIComponent(route.id))).data;
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(main, pd.breadcrumb([{ text: 'Tickets', href: '#/tickets' }, { text: '#' + route.id }]),
        pd.pageHeading('Ticket #' + route.id), pd.problemBlock(err, { id: 'ticket-error' }));
      pd.focusHeading();
      return;
    }
    if (!ctx.alive()) return;
    pd.setTitle('#' + t.id + ' ' + t.subject);
    const user = t.end_user || {};
    replace(main,
      pd.breadcrumb([{ text: 'Tickets', href: '#/tickets' }, { text: '#' + t.id }]),
      pd.pageHeading(t.subject),
      pd.takeFlash(),
      h('dl', { class: 'ticket-meta', id: 'ticket-meta' },
        h('dt', { text: 'Ticket' }), h('dd', { text: '#' + t.id }),
        h('dt', { text: 'Status' }), h('dd', { id: 'ticket-status' }, statusBadge(t.status)),
        h('dt', { text: 'End user' }), h('dd', { id: 'ticket-user', text: user.name && user.name !== user.email ? user.name + ' <' + user.email + '>' : (user.email || '') }),
        h('dt', { text: 'Mailbox' }), h('dd', { text: t.mailbox ? (t.mailbox.name || '') : '—' }),
        h('dt', { text: 'Priority' }), h('dd', { text: t.priority }),
        t.category ? [h('dt', { text: 'Category' }), h('dd', { text: t.category })] : null,
        h('dt', { text: 'Created' }), h('dd', { text: pd.fmtTime(t.created_at) }),
        h('dt', { text: 'Updated' }), h('dd', { text: pd.fmtTime(t.updated_at) })),
      statusForm(ctx, t),
      h('h2', { text: 'Conversation' }),
      h('ol', { class: 'conversation', id: 'conversation' }, (t.actions || []).map(actionCard)),
      window.postdeskOutgoing ? window.postdeskOutgoing.ticketPanel(ctx, t) : null);
    pd.focusHeading();
  }

  pd.page({
    name: 'tickets',
    match: (parts) => (parts[0] === 'tickets' && parts.length === 1 ? {} : null),
    nav: { href: '#/tickets', id: 'nav-tickets', text: 'Tickets', top: true },
    view: viewList,
  });
  pd.page({
    name: 'tickets-one',
    match: (parts) => (parts[0] === 'tickets' && parts.length === 2 && ID_RE.test(parts[1]) ? { id: parts[1] } : null),
    view: viewTicket,
  });
}());
