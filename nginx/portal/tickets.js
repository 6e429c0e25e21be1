/* postdesk portal — Tickets (#/tickets, #/tickets/{id}).
 *
 * The ticket list (status, assignee, automatic, mailbox and text filters,
 * cursor paging; priority, category, assignee and an "Automatic" badge in
 * the rows) and one ticket: status, priority, category and assignee (with
 * "Assign to me"), and its conversation (tickets_conv.js: customer, agent,
 * automatic mail and internal notes told apart, with the Note mode beside
 * the reply box).  Built on the helpers app.js exports as window.postdesk.  Every
 * subject, name, address and body here comes from mail and is hostile: it
 * reaches the page through textContent only (h()), never as markup.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const L = window.postdeskList;
  const C = window.postdeskConv;
  const F = window.postdeskFmt;
  if (!pd || !L || !C || !F) return;
  const { h, api, replace } = pd;

  const STATUSES = [
    { id: 'new', name: 'New', kind: 'warn' }, { id: 'open', name: 'Open', kind: 'ok' },
    { id: 'pending', name: 'Pending', kind: 'neutral' }, { id: 'resolved', name: 'Resolved', kind: 'neutral' },
    { id: 'closed', name: 'Closed', kind: 'neutral' },
  ];
  const PRIORITIES = [
    { id: 'low', name: 'Low', kind: 'neutral' }, { id: 'normal', name: 'Normal', kind: 'neutral' },
    { id: 'high', name: 'High', kind: 'warn' }, { id: 'urgent', name: 'Urgent', kind: 'bad' },
  ];
  const AUTOMATIC = [{ id: 'true', name: 'Automatic mail only' }, { id: 'false', name: 'Not automatic' }];
  const ID_RE = /^[1-9][0-9]{0,17}$/;
  const FILTERS = ['status', 'assigned', 'automatic', 'mailbox', 'q'];

  function statusName(id) {
    const s = STATUSES.find((x) => x.id === id);
    return s ? s.name : String(id || '');
  }

  function statusBadge(status) {
    return L.badge(STATUSES, status, 'status');
  }

  function priorityBadge(p) {
    return L.badge(PRIORITIES, p, 'priority');
  }

  function automaticBadge() {
    return h('span', { class: 'badge badge-neutral tk-automatic', title: 'Opened by automatic mail (an auto-reply, bulk mail or a loop)', text: 'Automatic' });
  }

  function personName(p) {
    return p ? (p.name || p.username || 'Agent ' + p.id) : '';
  }

  /* Active agents ({id, username, name, role}), for the assignee picker. */
  async function agentList() {
    try {
      return (await api('GET', '/api/agents')).data.items || [];
    } catch (err) {
      return [];
    }
  }

  function me() {
    const a = pd.agent();
    return a ? String(a.id) : '';
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

  /* "Assigned to": anyone, me, nobody, or one agent. */
  function assignedSelect(q, agents) {
    const chosen = q.get('assigned') || '';
    return L.anySelect({ id: 'tk-assigned', name: 'assigned' }, 'Anyone or nobody', [
      h('option', { value: 'me', selected: chosen === 'me', text: 'Assigned to me' }),
      h('option', { value: 'none', selected: chosen === 'none', text: 'Unassigned' }),
      agents.filter((a) => String(a.id) !== me()).map((a) =>
        h('option', { value: String(a.id), selected: String(a.id) === chosen, text: personName(a) }))]);
  }

  function filterForm(q, mailboxes, agents) {
    const status = L.anySelect({ id: 'tk-status', name: 'status' }, 'Any status', pd.options(STATUSES, q.get('status') || ''));
    const assigned = assignedSelect(q, agents);
    const automatic = L.anySelect({ id: 'tk-automatic', name: 'automatic' }, 'All mail', pd.options(AUTOMATIC, q.get('automatic') || ''));
    const text = h('input', { id: 'tk-q', name: 'q', type: 'search', value: q.get('q') || '',
      maxlength: '200', placeholder: 'Subject or address' });
    const mailbox = mailboxes ? L.mailboxSelect({ id: 'tk-mailbox', name: 'mailbox' }, mailboxes, q.get('mailbox')) : null;
    const mine = h('a', { class: 'btn btn-quiet', id: 'tk-mine', href: L.listHash('#/tickets', { assigned: 'me' }) }, 'My tickets');
    return L.filterForm('ticket-filters',
      [['Status', status], ['Assigned to', assigned], ['Automatic', automatic], ['Mailbox', mailbox], ['Search', text]], 'tk-apply',
      () => pd.go(L.listHash('#/tickets', { status: status.value, assigned: assigned.value, automatic: automatic.value,
        mailbox: mailbox ? mailbox.value : q.get('mailbox'), q: text.value.trim() })), mine);
  }

  function ticketRow(t) {
    return h('tr', { class: 'ticket-row', dataset: { id: t.id, automatic: t.automatic ? 'true' : 'false' } },
      h('td', { class: 'cell-id', 'data-label': 'Ticket', text: '#' + t.id }),
      h('td', { class: 'cell-subject', 'data-label': 'Subject' },
        h('a', { class: 'ticket-link wrap-2', title: t.subject, href: '#/tickets/' + encodeURIComponent(t.id), text: t.subject }),
        t.automatic ? [' ', automaticBadge()] : null,
        t.category ? [' ', h('span', { class: 'tk-category', title: 'Category', text: t.category })] : null),
      h('td', { class: 'cell-from', 'data-label': 'End user' }, L.trunc(L.nameAddress(t.end_user.name, t.end_user.email))),
      h('td', { class: 'cell-status', 'data-label': 'Status' }, statusBadge(t.status)),
      h('td', { class: 'cell-priority', 'data-label': 'Priority' }, priorityBadge(t.priority)),
      h('td', { class: 'cell-assignee', 'data-label': 'Assignee' }, t.assignee
        ? L.trunc(personName(t.assignee)) : h('span', { class: 'muted', text: 'Unassigned' })),
      h('td', { class: 'cell-mailbox', 'data-label': 'Mailbox' }, L.trunc(t.mailbox ? (t.mailbox.name || '') : '—')),
      h('td', { class: 'cell-updated cell-time', 'data-label': 'Updated' }, F.time(t.updated_at)));
  }

  async function viewList(ctx, main) {
    pd.setTitle('Tickets');
    const q = L.hashQuery();
    replace(main, pd.breadcrumb([{ text: 'Tickets' }]), pd.pageHeading('Tickets'), pd.takeFlash());
    pd.focusHeading();
    const slot = h('div', { id: 'ticket-list-slot' }, pd.loading('Loading tickets…'));
    const [mailboxes, agents] = await Promise.all([mailboxOptions(), agentList()]);
    if (!ctx.alive()) return;
    main.appendChild(filterForm(q, mailboxes, agents));
    main.appendChild(slot);
    await L.showPage(ctx, slot, {
      route: '#/tickets', query: q, keys: FILTERS, path: '/api/tickets', limit: 50,
      errorId: 'ticket-list-error', first: ['tk-first', 'First page'], next: ['tk-next', 'Next page'],
      empty: ['ticket-empty', 'No tickets',
        'Nothing matches these filters. Mail to a connected mailbox becomes a ticket at the scanner\'s next pass.'],
      render: (items) => L.table({ class: 'table', id: 'ticket-table' }, 'Tickets',
        ['#', 'Subject', 'End user', 'Status', 'Priority', 'Assignee', 'Mailbox', 'Updated'], items.map(ticketRow)),
    });
  }

  // ---------------------------------------------------------- one ticket

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

  /* What a PATCH changes, in words, for the flash. */
  function changedText(change, agents) {
    const said = [];
    if ('priority' in change) said.push('priority ' + (PRIORITIES.find((p) => p.id === change.priority) || {}).name);
    if ('category' in change) said.push(change.category ? 'category “' + change.category + '”' : 'no category');
    if ('assignee_id' in change) {
      const a = agents.find((x) => x.id === change.assignee_id);
      said.push(change.assignee_id === null ? 'unassigned' : 'assigned to ' + (a ? personName(a) : 'agent ' + change.assignee_id));
    }
    return 'Saved: ' + said.join(', ') + '.';
  }

  /* PATCH the ticket with change; then the page again with a flash. */
  async function patchTicket(ctx, t, change, agents) {
    await api('PATCH', '/api/tickets/' + encodeURIComponent(t.id), change);
    if (!ctx.alive()) return;
    pd.flash('ok', changedText(change, agents));
    pd.go('#/tickets/' + t.id);
  }

  function assigneeSelect(t, agents) {
    const current = t.assignee ? String(t.assignee.id) : '';
    const list = agents.slice();
    if (t.assignee && !list.some((a) => String(a.id) === current)) list.push(t.assignee); // no longer active
    return h('select', { id: 'tk-assignee', name: 'assignee_id' },
      h('option', { value: '', selected: !current, text: 'Unassigned' }),
      list.map((a) => h('option', { value: String(a.id), selected: String(a.id) === current,
        text: personName(a) + (String(a.id) === me() ? ' (me)' : '') })));
  }

  /* The fields of the work form that differ from the ticket. */
  function workChange(t, f) {
    const change = {};
    if (f.priority.value !== t.priority) change.priority = f.priority.value;
    const cat = f.category.value.trim();
    if (cat !== (t.category || '')) change.category = cat || null;
    const who = f.assignee.value;
    if (who !== (t.assignee ? String(t.assignee.id) : '')) change.assignee_id = who ? Number(who) : null;
    return change;
  }

  /* Priority, category and assignee, saved together; "Assign to me". */
  function workForm(ctx, t, agents) {
    const f = {
      priority: h('select', { id: 'tk-priority', name: 'priority' }, pd.options(PRIORITIES, t.priority)),
      category: h('input', { id: 'tk-category', name: 'category', type: 'text', maxlength: '100', value: t.category || '',
        autocomplete: 'off', placeholder: 'e.g. Billing' }),
      assignee: assigneeSelect(t, agents),
    };
    const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'tk-save-work' }, 'Save');
    const mine = t.assignee && String(t.assignee.id) === me();
    const assignMe = mine ? null : h('button', { type: 'button', class: 'btn', id: 'tk-assign-me' }, 'Assign to me');
    const box = h('div', { id: 'tk-work-error', tabindex: '-1', hidden: true });
    const form = h('form', { class: 'work-form', id: 'ticket-work-form', novalidate: true },
      pd.field('tk-priority', 'Priority', f.priority),
      pd.field('tk-category', 'Category', f.category, null, { optional: true }),
      pd.field('tk-assignee', 'Assignee', f.assignee),
      h('div', { class: 'form-actions' }, save, assignMe), box);
    const errors = pd.formErrors(form, box, { priority: 'tk-priority', category: 'tk-category', assignee_id: 'tk-assignee' },
      { notSaved: 'The ticket was not saved', taken: '' });
    async function run(change, btn) {
      errors.clear();
      if (Object.keys(change).length === 0) { pd.flash('ok', 'Nothing to save: nothing changed.'); pd.go('#/tickets/' + t.id); return; }
      btn.disabled = true;
      try {
        await patchTicket(ctx, t, change, agents);
      } catch (e) {
        btn.disabled = false;
        if (!ctx.alive() || e.handled) return;
        errors.show(e);
      }
    }
    form.addEventListener('submit', (ev) => { ev.preventDefault(); run(workChange(t, f), save); });
    if (assignMe) assignMe.addEventListener('click', () => run({ assignee_id: Number(me()) }, assignMe));
    return form;
  }

  function metaList(t) {
    const user = t.end_user || {};
    return h('dl', { class: 'ticket-meta', id: 'ticket-meta' },
      h('dt', { text: 'Ticket' }), h('dd', null, h('span', { text: '#' + t.id }), t.automatic ? [' ', automaticBadge()] : null),
      h('dt', { text: 'Status' }), h('dd', { id: 'ticket-status' }, statusBadge(t.status)),
      h('dt', { text: 'Priority' }), h('dd', { id: 'ticket-priority' }, priorityBadge(t.priority)),
      h('dt', { text: 'Category' }), h('dd', { id: 'ticket-category', text: t.category || '—' }),
      h('dt', { text: 'Assignee' }), h('dd', { id: 'ticket-assignee', text: t.assignee ? personName(t.assignee) : 'Unassigned' }),
      h('dt', { text: 'End user' }), h('dd', { id: 'ticket-user', text: L.nameAddress(user.name, user.email) }),
      h('dt', { text: 'Mailbox' }), h('dd', { text: t.mailbox ? (t.mailbox.name || '') : '—' }),
      h('dt', { text: 'Created' }), h('dd', null, F.time(t.created_at)),
      h('dt', { text: 'Updated' }), h('dd', null, F.time(t.updated_at)));
  }

  async function loadTicket(ctx, main, id) {
    try {
      const [r, agents] = await Promise.all([api('GET', '/api/tickets/' + encodeURIComponent(id)), agentList()]);
      return { t: r.data, agents };
    } catch (err) {
      if (!ctx.alive() || err.handled) return null;
      replace(main, pd.breadcrumb([{ text: 'Tickets', href: '#/tickets' }, { text: '#' + id }]),
        pd.pageHeading('Ticket #' + id), pd.problemBlock(err, { id: 'ticket-error' }));
      pd.focusHeading();
      return null;
    }
  }

  async function viewTicket(ctx, main, route) {
    pd.setTitle('Ticket #' + route.id);
    replace(main, pd.breadcrumb([{ text: 'Tickets', href: '#/tickets' }, { text: '#' + route.id }]),
      pd.loading('Loading ticket…'));
    const got = await loadTicket(ctx, main, route.id);
    if (!got || !ctx.alive()) return;
    const { t, agents } = got;
    pd.setTitle('#' + t.id + ' ' + t.subject);
    const c = { ticketId: t.id, names: {} };
    for (const a of agents) c.names[a.id] = a;
    const conversation = h('ol', { class: 'conversation', id: 'conversation' }, (t.actions || []).map((a) => C.actionCard(a, c)));
    const panel = window.postdeskOutgoing ? window.postdeskOutgoing.ticketPanel(ctx, t) : null;
    replace(main,
      pd.breadcrumb([{ text: 'Tickets', href: '#/tickets' }, { text: '#' + t.id }]),
      pd.pageHeading(t.subject),
      pd.takeFlash(),
      metaList(t),
      h('div', { class: 'ticket-forms' }, statusForm(ctx, t), workForm(ctx, t, agents)),
      h('h2', { text: 'Conversation' }),
      C.olderButton(ctx, t, conversation, c),
      conversation,
      panel,
      C.composer(ctx, t, panel));
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
