/* postdesk portal — Tickets (#/tickets, #/tickets/{id}).
 *
 * The ticket list (status, mailbox and text filters, cursor paging) and one
 * ticket: its conversation oldest first (the newest page; "Older messages"
 * loads the pages before it, a cut body is fetched whole on request),
 * attachments as download links, the status.  Built on the helpers app.js exports as window.postdesk.  Every
 * subject, name, address and body here comes from mail and is hostile: it
 * reaches the page through textContent only (h()), never as markup.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const L = window.postdeskList;
  if (!pd || !L) return;
  const { h, api, replace } = pd;

  const STATUSES = [
    { id: 'new', name: 'New', kind: 'warn' }, { id: 'open', name: 'Open', kind: 'ok' },
    { id: 'pending', name: 'Pending', kind: 'neutral' }, { id: 'resolved', name: 'Resolved', kind: 'neutral' },
    { id: 'closed', name: 'Closed', kind: 'neutral' },
  ];
  const ID_RE = /^[1-9][0-9]{0,17}$/;
  const FILTERS = ['status', 'mailbox', 'q'];

  function statusName(id) {
    const s = STATUSES.find((x) => x.id === id);
    return s ? s.name : String(id || '');
  }

  function statusBadge(status) {
    return L.badge(STATUSES, status, 'status');
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
    const status = L.anySelect({ id: 'tk-status', name: 'status' }, 'Any status', pd.options(STATUSES, q.get('status') || ''));
    const text = h('input', { id: 'tk-q', name: 'q', type: 'search', value: q.get('q') || '',
      maxlength: '200', placeholder: 'Subject or address' });
    const mailbox = mailboxes ? L.mailboxSelect({ id: 'tk-mailbox', name: 'mailbox' }, mailboxes, q.get('mailbox')) : null;
    return L.filterForm('ticket-filters', [['Status', status], ['Mailbox', mailbox], ['Search', text]], 'tk-apply',
      () => pd.go(L.listHash('#/tickets',
        { status: status.value, mailbox: mailbox ? mailbox.value : q.get('mailbox'), q: text.value.trim() })));
  }

  function ticketRow(t) {
    return h('tr', { class: 'ticket-row', dataset: { id: t.id } },
      h('td', { class: 'cell-id', 'data-label': '#', text: '#' + t.id }),
      h('td', { class: 'cell-subject', 'data-label': 'Subject' },
        h('a', { class: 'ticket-link', href: '#/tickets/' + encodeURIComponent(t.id), text: t.subject })),
      h('td', { class: 'cell-from', 'data-label': 'End user' },
        h('span', { text: L.nameAddress(t.end_user.name, t.end_user.email) })),
      h('td', { class: 'cell-status', 'data-label': 'Status' }, statusBadge(t.status)),
      h('td', { class: 'cell-mailbox', 'data-label': 'Mailbox', text: t.mailbox ? (t.mailbox.name || '') : '—' }),
      h('td', { class: 'cell-updated', 'data-label': 'Updated', text: pd.fmtTime(t.updated_at) }));
  }

  async function viewList(ctx, main) {
    pd.setTitle('Tickets');
    const q = L.hashQuery();
    replace(main, pd.breadcrumb([{ text: 'Tickets' }]), pd.pageHeading('Tickets'), pd.takeFlash());
    pd.focusHeading();
    const slot = h('div', { id: 'ticket-list-slot' }, pd.loading('Loading tickets…'));
    const mailboxes = await mailboxOptions();
    if (!ctx.alive()) return;
    main.appendChild(filterForm(q, mailboxes));
    main.appendChild(slot);
    await L.showPage(ctx, slot, {
      route: '#/tickets', query: q, keys: FILTERS, path: '/api/tickets', limit: 50,
      errorId: 'ticket-list-error', first: ['tk-first', 'First page'], next: ['tk-next', 'Next page'],
      empty: ['ticket-empty', 'No tickets',
        'Nothing matches these filters. Mail to a connected mailbox becomes a ticket at the scanner\'s next pass.'],
      render: (items) => L.table({ class: 'table', id: 'ticket-table' }, 'Tickets',
        ['#', 'Subject', 'End user', 'Status', 'Mailbox', 'Updated'], items.map(ticketRow)),
    });
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
    const body = h('div', { class: 'conv-body', text: a.body || '' });
    return h('li', { class: 'conv-item card', dataset: { id: a.id, kind: a.kind } },
      h('p', { class: 'conv-subject', text: a.subject || '(no subject)' }),
      head,
      body,
      a.body_truncated ? wholeBodyButton(a, body) : null,
      attachmentList(a.attachments));
  }

  // A body over 256 KiB comes cut: the button fetches it whole (as text).
  function wholeBodyButton(a, body) {
    const btn = h('button', { type: 'button', class: 'btn btn-quiet conv-whole',
      text: 'Show the whole message (' + sizeText(a.body_size) + ')' });
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        body.textContent = (await api('GET', a.body_url, undefined, { text: true })).data || '';
        btn.remove();
      } catch (e) {
        btn.disabled = false;
        if (!e.handled) btn.textContent = 'Could not load the whole message — try again';
      }
    });
    return btn;
  }

  // "Older messages": the page before the oldest shown, put above it.
  function olderButton(ctx, t, list) {
    let cursor = t.actions_next_cursor;
    const err = h('div', { id: 'conv-older-error' });
    const btn = h('button', { type: 'button', class: 'btn', id: 'conv-older', text: 'Older messages' });
    const wrap = h('div', { class: 'conv-older' }, btn, err);
    wrap.hidden = !cursor;
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      replace(err);
      try {
        const path = '/api/tickets/' + encodeURIComponent(t.id) + '/messages?cursor=' + encodeURIComponent(cursor);
        const page = (await api('GET', path)).data;
        if (!ctx.alive()) return;
        list.prepend(...page.items.map(actionCard));
        cursor = page.next_cursor;
        wrap.hidden = !cursor;
      } catch (e) {
        if (!ctx.alive() || e.handled) return;
        replace(err, pd.problemBlock(e));
      }
      btn.disabled = false;
    });
    return wrap;
  }

  function statusForm(ctx, t) {
    const sel = h('select', { id: 'tk-set-status' }, pd.options(STATUSES, t.status));
    const btn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'tk-save-status' }, 'Change status');
    const err = h('div', { id: 'tk-status-error' });
    const form = h('form', { class: 'status-form', id: 'ticket-status-form' },
      h('label', { htmlFor: 'tk-set-status', text: 'Status' }), sel, btn, err);
    const fieldErrors = pd.formErrors(form, err, { status: 'tk-set-status' }, { notSaved: 'The status was not changed' });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      btn.disabled = true;
      fieldErrors.clear();
      try {
        await api('PATCH', '/api/tickets/' + encodeURIComponent(t.id), { status: sel.value });
        if (!ctx.alive()) return;
        pd.flash('ok', 'Status changed to ' + statusName(sel.value) + '.');
        pd.go('#/tickets/' + t.id);
      } catch (e) {
        btn.disabled = false;
        if (!ctx.alive() || e.handled) return;
        fieldErrors.show(e);
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
    const conversation = h('ol', { class: 'conversation', id: 'conversation' }, (t.actions || []).map(actionCard));
    replace(main,
      pd.breadcrumb([{ text: 'Tickets', href: '#/tickets' }, { text: '#' + t.id }]),
      pd.pageHeading(t.subject),
      pd.takeFlash(),
      h('dl', { class: 'ticket-meta', id: 'ticket-meta' },
        h('dt', { text: 'Ticket' }), h('dd', { text: '#' + t.id }),
        h('dt', { text: 'Status' }), h('dd', { id: 'ticket-status' }, statusBadge(t.status)),
        h('dt', { text: 'End user' }), h('dd', { id: 'ticket-user', text: L.nameAddress(user.name, user.email) }),
        h('dt', { text: 'Mailbox' }), h('dd', { text: t.mailbox ? (t.mailbox.name || '') : '—' }),
        h('dt', { text: 'Priority' }), h('dd', { text: t.priority }),
        t.category ? [h('dt', { text: 'Category' }), h('dd', { text: t.category })] : null,
        h('dt', { text: 'Created' }), h('dd', { text: pd.fmtTime(t.created_at) }),
        h('dt', { text: 'Updated' }), h('dd', { text: pd.fmtTime(t.updated_at) })),
      statusForm(ctx, t),
      h('h2', { text: 'Conversation' }),
      olderButton(ctx, t, conversation),
      conversation,
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
