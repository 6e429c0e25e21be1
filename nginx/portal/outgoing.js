/* postdesk portal — Configuration > Email > Outgoing Email (#/outgoing), and
 * the reply box and outgoing mail of a ticket (tickets.js asks
 * window.postdeskOutgoing.ticketPanel for them).
 *
 * The outgoing queue as a page: what was sent when, what waits and why,
 * what failed with the guidance to fix it, and Retry for failed mail (an
 * admin action).  Built on window.postdesk; subjects, addresses and errors
 * reach the page through textContent only.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const L = window.postdeskList;
  if (!pd || !L) return;
  const { h, api, replace } = pd;
  const F = window.postdeskFmt;

  const STATUSES = [
    { id: 'queued', name: 'Queued', kind: 'neutral' },
    { id: 'sending', name: 'Sending', kind: 'warn' },
    { id: 'sent', name: 'Sent', kind: 'ok' },
    { id: 'failed', name: 'Failed', kind: 'bad' },
    { id: 'held', name: 'Held', kind: 'warn' },
  ];
  const KINDS = { ack: 'Acknowledgement', reply: 'Reply' };
  const ID_RE = /^[1-9][0-9]{0,17}$/;
  const MAX_ATTACH = 2 * 1024 * 1024; // the API's cap per reply
  const CRUMBS = [{ text: 'Configuration' }, { text: 'Email' }];
  const FILTERS = ['mailbox', 'status', 'ticket'];

  function statusBadge(id) {
    return L.badge(STATUSES, id, 'status');
  }

  function isAdmin() {
    const a = pd.agent();
    return !!a && a.role === 'admin';
  }

  /* What the row is waiting for, in words (times local, UTC on hover). */
  function waitCell(o) {
    if (o.status === 'sent') return o.sent_at ? ['Sent ', F.time(o.sent_at)] : 'Sent';
    if (o.status === 'failed') return 'Not sent';
    if (o.status === 'held') return 'After the mailbox is authorized again';
    return o.next_attempt_at ? F.time(o.next_attempt_at) : '—';
  }

  /* The error on one line, cut (whole in the title); the guidance in at
   * most two lines (app.css .clamp-2), whole in its title too. */
  function errorCell(o) {
    if (!o.last_error && !o.guidance) return h('span', { class: 'muted', text: '—' });
    return h('div', { class: 'out-error' },
      o.last_error ? L.trunc(o.last_error, 'out-error-text') : null,
      o.guidance ? h('p', { class: 'out-guidance clamp-2', title: o.guidance },
        h('strong', { text: 'What to do: ' }), h('span', { text: o.guidance })) : null);
  }

  function retryButton(ctx, o, after) {
    if (o.status !== 'failed' || !isAdmin()) return null;
    const btn = h('button', { type: 'button', class: 'btn btn-quiet out-retry', id: 'out-retry-' + o.id }, 'Retry');
    const err = h('div', { class: 'out-retry-error' });
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      replace(err);
      try {
        await api('POST', '/api/outgoing-emails/' + encodeURIComponent(o.id) + '/retry');
        if (!ctx.alive()) return;
        pd.flash('ok', 'Mail ' + o.id + ' is queued again; the next scanner run sends it.');
        pd.go(after);
      } catch (x) {
        btn.disabled = false;
        if (!ctx.alive() || x.handled) return;
        replace(err, pd.problemBlock(x));
      }
    });
    return h('div', null, btn, err);
  }

  function row(ctx, o, after) {
    return h('tr', { class: 'outgoing-row', dataset: { id: o.id, status: o.status } },
      h('td', { class: 'cell-time', 'data-label': 'Created' }, F.time(o.created_at)),
      h('td', { class: 'cell-mailbox', 'data-label': 'Mailbox' }, L.trunc(L.mailboxName(o.mailbox))),
      h('td', { class: 'cell-kind', 'data-label': 'Kind', text: KINDS[o.kind] || o.kind }),
      h('td', { class: 'cell-to', 'data-label': 'To' }, L.trunc(o.to + (o.cc ? ', cc ' + o.cc : ''))),
      h('td', { class: 'cell-subject', 'data-label': 'Subject' }, h('span', { class: 'wrap-2', title: o.subject || '', text: o.subject || '(no subject)' })),
      h('td', { 'data-label': 'Status' }, statusBadge(o.status)),
      h('td', { class: 'cell-attempts', 'data-label': 'Attempts', text: String(o.attempts) }),
      h('td', { class: 'cell-next', 'data-label': 'Next attempt' }, waitCell(o)),
      h('td', { class: 'cell-error', 'data-label': 'Last error' }, errorCell(o)),
      h('td', { 'data-label': 'Ticket' }, L.ticketLink(o.ticket_id)),
      h('td', { class: 'cell-actions', 'data-label': o.status === 'failed' ? 'Action' : null }, retryButton(ctx, o, after)));
  }

  function table(ctx, items, after, id) {
    return L.table({ class: 'table outgoing-table', id }, 'Outgoing email',
      ['Created', 'Mailbox', 'Kind', 'To', 'Subject', 'Status', 'Attempts', 'Next attempt', 'Last error', 'Ticket', 'Action'],
      items.map((o) => row(ctx, o, after)));
  }

  async function mailboxNames() {
    try {
      const items = (await api('GET', '/api/mailboxes')).data.items || [];
      return items;
    } catch (err) {
      return []; // agents may not list mailboxes: no mailbox filter
    }
  }

  // ------------------------------------------------------------ the page

  function filterForm(q, mailboxes) {
    const mailbox = L.mailboxSelect({ id: 'out-mailbox' }, mailboxes, q.get('mailbox'));
    const status = L.anySelect({ id: 'out-status' }, 'Any status', pd.options(STATUSES, q.get('status') || ''));
    const ticket = h('input', { id: 'out-ticket', type: 'text', inputmode: 'numeric', value: q.get('ticket') || '',
      maxlength: '18', placeholder: 'Ticket number', autocomplete: 'off' });
    const err = h('p', { class: 'field-error', id: 'out-ticket-error', hidden: true, text: 'A ticket number is digits only, e.g. 123.' });
    return L.filterForm('outgoing-filters', [['Mailbox', mailbox], ['Status', status], ['Ticket', ticket]], 'out-apply', () => {
      const t = ticket.value.trim().replace(/^#/, '');
      if (t && !ID_RE.test(t)) {
        err.hidden = false;
        ticket.setAttribute('aria-invalid', 'true');
        ticket.focus();
        return;
      }
      pd.go(L.listHash('#/outgoing', { mailbox: mailbox.value, status: status.value, ticket: t }));
    }, err);
  }

  async function viewList(ctx, main) {
    pd.setTitle('Outgoing Email');
    replace(main, pd.breadcrumb(CRUMBS.concat([{ text: 'Outgoing Email' }])),
      pd.pageHeading('Outgoing Email'), pd.takeFlash(),
      h('p', { class: 'muted', id: 'outgoing-intro', text: 'Acknowledgements and replies go out through the mailbox each ticket came in on, sent by the scanner. Mail whose outcome was unknown is looked up in Sent Items before it is tried again, so nothing is sent twice.' }));
    pd.focusHeading();
    const q = L.hashQuery();
    const mailboxes = await mailboxNames();
    if (!ctx.alive()) return;
    const slot = h('div', { id: 'outgoing-list-slot' }, pd.loading('Loading outgoing email…'));
    main.appendChild(filterForm(q, mailboxes));
    main.appendChild(slot);
    await L.showPage(ctx, slot, {
      route: '#/outgoing', query: q, keys: FILTERS, path: '/api/outgoing-emails', limit: 100,
      errorId: 'outgoing-list-error', first: ['out-first', 'Newest'], next: ['out-next', 'Older'],
      empty: ['outgoing-empty', 'No outgoing email yet',
        'Acknowledgements and replies are listed here from the moment they are queued.'],
      render: (items) => table(ctx, items, location.hash || '#/outgoing', 'outgoing-table'),
    });
  }

  // ------------------------------------------------------ on a ticket page

  function readBase64(file) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => {
        const s = String(r.result || '');
        const comma = s.indexOf(',');
        resolve(comma < 0 ? '' : s.slice(comma + 1));
      };
      r.onerror = () => reject(r.error || new Error('read failed'));
      r.readAsDataURL(file);
    });
  }

  function replyForm(ctx, t) {
    const body = h('textarea', { id: 'reply-body', name: 'body', rows: '8', maxlength: '100000', required: true,
      'aria-required': 'true', 'aria-describedby': 'reply-body-help' });
    const cc = h('input', { id: 'reply-cc', name: 'cc', type: 'text', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'a@example.com, b@example.com', 'aria-describedby': 'reply-cc-help' });
    const files = h('input', { id: 'reply-files', name: 'attachments', type: 'file', multiple: true, 'aria-describedby': 'reply-files-help' });
    const chosen = h('ul', { class: 'attachment-list', id: 'reply-chosen' });
    const send = h('button', { type: 'submit', class: 'btn btn-primary', id: 'reply-send' }, 'Send');
    const err = h('div', { id: 'reply-error', role: 'alert' });
    const to = t.end_user ? t.end_user.email : '';
    files.addEventListener('change', () => {
      replace(chosen, Array.from(files.files || []).map((f) => h('li', { text: f.name + ' (' + F.plural(f.size, 'byte') + ')' })));
    });
    const form = h('form', { class: 'card reply-form', id: 'reply-form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { htmlFor: 'reply-body' }, 'Reply to ', h('span', { id: 'reply-to', text: to || 'the end user' }),
          h('span', { class: 'req', 'aria-hidden': 'true', text: ' *' })),
        body,
        h('p', { class: 'help', id: 'reply-body-help', text: 'Sent from the ticket’s mailbox with the ticket number in the subject, threaded under the customer’s latest mail.' })),
      h('div', { class: 'field' },
        h('label', { htmlFor: 'reply-cc' }, 'Cc', h('span', { class: 'opt', text: ' (optional)' })),
        cc,
        h('p', { class: 'help', id: 'reply-cc-help', text: 'Addresses separated by commas.' })),
      h('div', { class: 'field' },
        h('label', { htmlFor: 'reply-files' }, 'Attachments', h('span', { class: 'opt', text: ' (optional)' })),
        files, chosen,
        h('p', { class: 'help', id: 'reply-files-help', text: 'Up to 2 MiB in all.' })),
      h('div', { class: 'form-actions' }, send), err);
    // The API's field errors (and the form's own checks) at their fields.
    const fieldErrors = pd.formErrors(form, err, {
      body: { id: 'reply-body', label: 'Reply' }, cc: 'reply-cc', attachments: 'reply-files',
    }, { notSaved: 'The reply was not sent' });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      fieldErrors.clear();
      const list = Array.from(files.files || []);
      const total = list.reduce((n, f) => n + f.size, 0);
      const mine = [
        body.value.trim() ? null : { field: 'body', message: 'Write the reply first.' },
        total > MAX_ATTACH ? { field: 'attachments', message: 'The attachments add up to more than 2 MiB. Send fewer or smaller files.' } : null,
      ].filter(Boolean);
      if (mine.length) { fieldErrors.show(pd.localProblem(mine)); return; }
      send.disabled = true;
      try {
        const attachments = [];
        for (const f of list) {
          attachments.push({ name: f.name, content_type: f.type || 'application/octet-stream', content_base64: await readBase64(f) });
        }
        const payload = { body: body.value };
        const ccs = cc.value.split(/[,;\s]+/).map((s) => s.trim()).filter(Boolean);
        if (ccs.length) payload.cc = ccs;
        if (attachments.length) payload.attachments = attachments;
        const r = await api('POST', '/api/tickets/' + encodeURIComponent(t.id) + '/reply', payload);
        if (!ctx.alive()) return;
        pd.flash('ok', r.data && r.data.status === 'queued'
          ? 'Reply queued: the scanner sends it on its next run.'
          : 'Reply saved.');
        pd.go('#/tickets/' + t.id);
      } catch (x) {
        send.disabled = false;
        if (!ctx.alive() || x.handled) return;
        fieldErrors.show(x);
      }
    });
    return form;
  }

  /* The ticket's outgoing mail (status of each) and the reply box. */
  function ticketPanel(ctx, t) {
    const slot = h('div', { id: 'ticket-outgoing-slot' }, pd.loading('Loading outgoing email…'));
    (async () => {
      let items;
      try {
        items = (await api('GET', '/api/outgoing-emails?ticket=' + encodeURIComponent(t.id) + '&limit=50')).data.items || [];
      } catch (err) {
        if (!ctx.alive() || err.handled) return;
        replace(slot, pd.problemBlock(err, { id: 'ticket-outgoing-error' }));
        return;
      }
      if (!ctx.alive()) return;
      replace(slot, items.length
        ? table(ctx, items, '#/tickets/' + t.id, 'ticket-outgoing-table')
        : h('p', { class: 'muted', id: 'ticket-outgoing-empty', text: 'Nothing sent on this ticket yet.' }));
    })();
    return h('section', { class: 'ticket-outgoing', id: 'ticket-outgoing', 'aria-labelledby': 'ticket-outgoing-title' },
      h('h2', { id: 'ticket-outgoing-title', text: 'Outgoing email' }),
      slot,
      h('h2', { id: 'reply-title', text: 'Reply' }),
      replyForm(ctx, t));
  }

  window.postdeskOutgoing = Object.freeze({ ticketPanel, statusBadge });

  pd.page({
    name: 'outgoing',
    match: (parts) => (parts[0] === 'outgoing' && parts.length === 1 ? {} : null),
    nav: { href: '#/outgoing', id: 'nav-outgoing', text: 'Outgoing Email' },
    view: viewList,
  });
}());
