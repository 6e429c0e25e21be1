/* postdesk portal — Configuration > Email > Incoming Email Log (#/incoming).
 *
 * The troubleshooting report as a page: every mail the scanner took
 * from an Inbox, newest first, with what became of it and which rule caught
 * it; filters and paging; one mail's decision trace and Graph JSON; and
 * Reprocess (the stored mail through the current rules again).  Mail whose
 * intake failed (issue 8, "Isolation") shows its failures, error and next
 * try, and Retry (POST /api/incoming-emails/{id}/retry) on the latest
 * attempt; "Needs attention" lists what a mailbox's `attention` counts.
 * Built on window.postdesk; mail content (subjects, senders, errors) is
 * hostile and reaches the page through textContent only.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const L = window.postdeskList;
  if (!pd || !L) return;
  const { h, api, replace } = pd;
  const F = window.postdeskFmt;

  const OUTCOMES = [
    { id: 'ticket_created', name: 'Ticket created', kind: 'ok' },
    { id: 'ticket_updated', name: 'Ticket updated', kind: 'ok' },
    { id: 'ignored_by_rule', name: 'Ignored by rule', kind: 'neutral' },
    { id: 'suppressed_loop', name: 'Suppressed (loop)', kind: 'warn' },
    { id: 'rejected', name: 'Rejected', kind: 'warn' },
    { id: 'error', name: 'Error', kind: 'bad' },
    { id: 'failed', name: 'Failed', kind: 'bad' },
    { id: 'quarantined', name: 'Quarantined', kind: 'bad' },
  ];
  // The outcome select's "Needs attention" entry: attention=true in the hash.
  const ATTENTION = '!attention';
  const ID_RE = /^[1-9][0-9]{0,17}$/;
  const CRUMBS = [{ text: 'Configuration' }, { text: 'Email' }];

  const FILTERS = ['mailbox', 'outcome', 'attention', 'q', 'since', 'until'];

  function outcomeBadge(id) {
    return L.badge(OUTCOMES, id, 'outcome');
  }

  function adminOnly(main) {
    const agent = pd.agent();
    if (agent && agent.role === 'admin') return false;
    main.appendChild(h('div', { class: 'notice', id: 'needs-admin', role: 'note' },
      h('p', { class: 'notice-title', text: 'The incoming email log needs an admin' }),
      h('p', { text: 'You are signed in as an agent. Ask a postdesk administrator to look into how mail was handled.' })));
    return true;
  }

  function sender(from) {
    return from ? L.nameAddress(from.name, from.address) : '';
  }

  function ruleCell(rule) {
    if (!rule) return h('span', { class: 'muted', text: '—' });
    return h('span', { text: rule.name ? rule.name : 'Rule ' + rule.id + ' (deleted)' });
  }

  // ------------------------------------------------- failed and quarantined

  function isolated(e) {
    return e.outcome === 'failed' || e.outcome === 'quarantined';
  }

  /* Retry applies to the latest attempt of a failed or quarantined mail. */
  function canRetry(e) {
    const agent = pd.agent();
    return isolated(e) && e.latest !== false && !e.retry_requested && !!agent && agent.role === 'admin';
  }

  function times(n) {
    return n === 1 ? 'once' : n + ' times';
  }

  /* Where a failed or quarantined mail stands, in words. */
  function isolationText(e) {
    if (e.retry_requested) return 'Retry requested.';
    if (e.outcome === 'quarantined') return 'Failed ' + times(e.failures) + '; moved to the quarantine folder.';
    return 'Failed ' + times(e.failures) + (e.next_try_at ? '; next try ' + F.when(e.next_try_at) : '') + '.';
  }

  /* The Retry button; done(row) gets the row as the API answers it. */
  function retryButton(e, status, done) {
    const btn = h('button', { type: 'button', class: 'btn btn-small in-retry', dataset: { id: e.id } }, 'Retry');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      replace(status);
      try {
        const r = await api('POST', '/api/incoming-emails/' + encodeURIComponent(e.id) + '/retry');
        done(r.data || e);
      } catch (x) {
        btn.disabled = false;
        if (x.handled) return;
        replace(status, pd.problemBlock(x));
      }
    });
    return btn;
  }

  function retriedText(e) {
    return e.outcome === 'quarantined'
      ? 'The next scan brings this mail back from quarantine to the Inbox and takes it in again.'
      : 'The next scan tries this mail again.';
  }

  /* The acknowledgement as the outgoing queue has it, under a row's outcome
   * (the reasons none was sent are on the mail's own page). */
  function ackLine(e) {
    const a = e.acknowledgement;
    const out = window.postdeskOutgoing;
    if (!a) return null;
    return h('div', { class: 'small in-ack-line', dataset: { status: a.status } }, 'Acknowledgement ',
      out ? out.statusBadge(a.status) : h('span', { text: a.status }));
  }

  /* The Outcome cell of a row: badge, acknowledgement, failures and error, Retry. */
  function fillOutcome(td, e, note) {
    const status = h('div', { class: 'in-retry-status', role: 'status' }, note ? h('span', { text: note }) : null);
    replace(td, outcomeBadge(e.outcome), ackLine(e),
      isolated(e) ? h('div', { class: 'small in-isolation', text: isolationText(e) }) : null,
      isolated(e) && e.error ? h('div', { class: 'small muted in-error' }, L.trunc(e.error)) : null,
      canRetry(e) && !note ? retryButton(e, status, (row) => fillOutcome(td, row, retriedText(row))) : null,
      status);
    return td;
  }

  // ------------------------------------------------------------ the list

  function filterForm(q, mailboxes) {
    const mailbox = L.mailboxSelect({ id: 'in-mailbox' }, mailboxes, q.get('mailbox'));
    const chosen = q.get('attention') === 'true' ? ATTENTION : (q.get('outcome') || '');
    const outcome = L.anySelect({ id: 'in-outcome' }, 'Any outcome', [
      h('option', { value: ATTENTION, selected: chosen === ATTENTION, text: 'Needs attention (failed or quarantined)' }),
      pd.options(OUTCOMES, chosen)]);
    const text = h('input', { id: 'in-q', type: 'search', value: q.get('q') || '', maxlength: '200',
      placeholder: 'Subject, sender or Message-ID' });
    const since = h('input', { id: 'in-since', type: 'date', value: q.get('since') || '' });
    const until = h('input', { id: 'in-until', type: 'date', value: q.get('until') || '' });
    return L.filterForm('incoming-filters',
      [['Mailbox', mailbox], ['Outcome', outcome], ['Search', text], ['From', since], ['To', until]], 'in-apply',
      () => pd.go(L.listHash('#/incoming', { mailbox: mailbox.value,
        outcome: outcome.value === ATTENTION ? '' : outcome.value, attention: outcome.value === ATTENTION ? 'true' : '',
        q: text.value.trim(), since: since.value, until: until.value })));
  }

  function row(e) {
    return h('tr', { class: 'incoming-row', dataset: { id: e.id } },
      h('td', { class: 'cell-time', 'data-label': 'Received' }, F.time(e.received_at || e.created_at)),
      h('td', { class: 'cell-mailbox', 'data-label': 'Mailbox' }, L.trunc(L.mailboxName(e.mailbox))),
      h('td', { class: 'cell-from', 'data-label': 'From' }, L.trunc(sender(e.from))),
      h('td', { class: 'cell-subject', 'data-label': 'Subject' },
        h('a', { class: 'incoming-link wrap-2', title: e.subject || '', href: '#/incoming/' + encodeURIComponent(e.id), text: e.subject || '(no subject)' }),
        e.attempt > 1 ? h('span', { class: 'muted', text: ' (attempt ' + e.attempt + ')' }) : null),
      fillOutcome(h('td', { class: 'cell-outcome', 'data-label': 'Outcome' }), e),
      h('td', { class: 'cell-rule', 'data-label': 'Rule' }, ruleCell(e.rule)),
      h('td', { 'data-label': 'Ticket' }, L.ticketLink(e.ticket_id)));
  }

  async function viewList(ctx, main) {
    pd.setTitle('Incoming Email Log');
    replace(main, pd.breadcrumb(CRUMBS.concat([{ text: 'Incoming Email Log' }])),
      pd.pageHeading('Incoming Email Log'), pd.takeFlash());
    pd.focusHeading();
    if (adminOnly(main)) return;
    const q = L.hashQuery();
    const slot = h('div', { id: 'incoming-list-slot' }, pd.loading('Loading the log…'));
    let mailboxes = [];
    try {
      mailboxes = (await api('GET', '/api/mailboxes')).data.items || [];
    } catch (err) { /* the filter just lacks names */ }
    if (!ctx.alive()) return;
    main.appendChild(filterForm(q, mailboxes));
    main.appendChild(slot);
    await L.showPage(ctx, slot, {
      route: '#/incoming', query: q, keys: FILTERS, path: '/api/incoming-emails', limit: 100,
      errorId: 'incoming-list-error', first: ['in-first', 'Newest'], next: ['in-next', 'Older'],
      empty: ['incoming-empty', 'No incoming email yet', 'Every mail the scanner takes from an Inbox is listed here.'],
      render: (items) => L.table({ class: 'table', id: 'incoming-table' }, 'Incoming email',
        ['Received', 'Mailbox', 'From', 'Subject', 'Outcome', 'Rule', 'Ticket'], items.map(row)),
    });
  }

  // ------------------------------------------------------------ one mail

  function reprocessButton(ctx, e) {
    const btn = h('button', { type: 'button', class: 'btn btn-primary', id: 'in-reprocess' }, 'Reprocess');
    const err = h('div', { id: 'in-reprocess-error' });
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      replace(err);
      try {
        const r = await api('POST', '/api/incoming-emails/' + encodeURIComponent(e.id) + '/reprocess');
        if (!ctx.alive()) return;
        const o = OUTCOMES.find((x) => x.id === r.data.outcome);
        pd.flash('ok', 'Reprocessed as attempt ' + r.data.attempt + ': ' + (o ? o.name : r.data.outcome) + '.');
        pd.go('#/incoming/' + r.data.id);
      } catch (x) {
        btn.disabled = false;
        if (!ctx.alive() || x.handled) return;
        replace(err, pd.problemBlock(x));
      }
    });
    return h('div', { class: 'panel-actions' }, btn,
      h('p', { class: 'help', text: 'Runs this mail through the current rules again, from the log (it need not be in the mailbox). Attachments are not fetched again.' }),
      err);
  }

  /* Failures, error, next try and Retry of a failed or quarantined mail. */
  function isolationMeta(e) {
    return [
      h('dt', { text: 'Failures' }), h('dd', { id: 'in-failures', text: String(e.failures || 0) }),
      h('dt', { text: 'Error' }), h('dd', { id: 'in-error', class: 'in-error', text: e.error || '—' }),
      h('dt', { text: 'Next try' }), h('dd', { id: 'in-next-try' }, F.time(e.next_try_at)),
      h('dt', { text: 'Retry' }), h('dd', { id: 'in-retry-requested', text: e.retry_requested ? 'Requested' : 'Not requested' }),
    ];
  }

  /* The acknowledgement as the outgoing queue has it (queued, sent,
   * failed…), else why none was sent (e.ack); a link to its row. */
  function ackState(e) {
    const a = e.acknowledgement;
    if (!a) return h('span', { text: e.ack || '—' });
    const out = window.postdeskOutgoing;
    return [out ? out.statusBadge(a.status) : h('span', { text: a.status }),
      a.status === 'failed' ? h('span', { class: 'in-ack-failed', text: ' Not sent.' }) : null, ' ',
      e.ticket_id ? h('a', { class: 'in-ack-link', href: '#/outgoing?ticket=' + encodeURIComponent(e.ticket_id),
        text: 'Outgoing Email' }) : null];
  }

  function metaList(e) {
    return h('dl', { class: 'ticket-meta', id: 'incoming-meta' },
      h('dt', { text: 'Subject' }), h('dd', { id: 'in-subject', text: e.subject || '(no subject)' }),
      h('dt', { text: 'From' }), h('dd', { id: 'in-from', text: sender(e.from) }),
      h('dt', { text: 'To' }), h('dd', { text: e.to || '' }),
      e.cc ? [h('dt', { text: 'Cc' }), h('dd', { text: e.cc })] : null,
      h('dt', { text: 'Mailbox' }), h('dd', { text: L.mailboxName(e.mailbox) }),
      h('dt', { text: 'Received' }), h('dd', null, F.time(e.received_at)),
      h('dt', { text: 'Logged' }), h('dd', null, F.time(e.created_at)),
      h('dt', { text: 'Outcome' }), h('dd', { id: 'in-outcome-value' }, outcomeBadge(e.outcome)),
      h('dt', { text: 'Rule' }), h('dd', { id: 'in-rule' }, ruleCell(e.rule)),
      h('dt', { text: 'Ticket' }), h('dd', null, L.ticketLink(e.ticket_id)),
      h('dt', { text: 'Automatic' }), h('dd', { text: e.automatic || 'No' }),
      h('dt', { text: 'Acknowledgement' }), h('dd', { id: 'in-ack' }, ackState(e)),
      h('dt', { text: 'Attempt' }), h('dd', { id: 'in-attempt', text: String(e.attempt) + (e.latest === false ? ' (a later attempt exists)' : '') }),
      isolated(e) || e.failures ? isolationMeta(e) : null,
      h('dt', { text: 'Mailbox action' }), h('dd', { text: e.state }),
      h('dt', { text: 'Message-ID' }), h('dd', { class: 'small', text: e.message_id || '—' }),
      h('dt', { text: 'Size' }), h('dd', { text: F.plural(e.size, 'byte') + ', SHA-256 ' + e.sha256 }));
  }

  /* Retry on one mail: the result is flashed on the refreshed page. */
  function retryPanel(ctx, e) {
    const status = h('div', { id: 'in-retry-error' });
    const help = h('p', { class: 'help', id: 'in-retry-help', text: isolationText(e) });
    if (!canRetry(e)) return h('div', { class: 'panel-actions' }, help);
    const btn = retryButton(e, status, (row) => {
      if (!ctx.alive()) return;
      pd.flash('ok', retriedText(row));
      pd.go('#/incoming/' + encodeURIComponent(row.id));
    });
    btn.id = 'in-retry';
    btn.className = 'btn btn-primary';
    return h('div', { class: 'panel-actions' }, btn, help, status);
  }

  /* A <pre> that scrolls when long: focusable, so the keyboard scrolls it
   * too, and a region named by the heading before it (id + '-title'). */
  function scrollBox(props) {
    return h('pre', Object.assign({ tabindex: '0', role: 'region', 'aria-labelledby': props.id + '-title' }, props));
  }

  async function viewOne(ctx, main, route) {
    const crumbs = CRUMBS.concat([{ text: 'Incoming Email Log', href: '#/incoming' }, { text: 'Mail ' + route.id }]);
    pd.setTitle('Incoming email ' + route.id);
    replace(main, pd.breadcrumb(crumbs), pd.pageHeading('Incoming email ' + route.id), pd.takeFlash());
    if (adminOnly(main)) return;
    const slot = h('div', { id: 'incoming-slot' }, pd.loading('Loading…'));
    main.appendChild(slot);
    let e;
    try {
      e = (await api('GET', '/api/incoming-emails/' + encodeURIComponent(route.id))).data;
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, pd.problemBlock(err, { id: 'incoming-error' }));
      return;
    }
    if (!ctx.alive()) return;
    replace(slot, metaList(e), isolated(e) ? retryPanel(ctx, e) : reprocessButton(ctx, e),
      h('h2', { id: 'in-trace-title', text: 'Decision trace' }),
      scrollBox({ class: 'trace', id: 'in-trace', text: e.trace || '' }),
      h('h2', { id: 'in-source-title', text: 'Graph JSON' }),
      scrollBox({ class: 'graph-json', id: 'in-source', text: e.source ? JSON.stringify(e.source, null, 2) : '(not parseable)' }));
    pd.focusHeading();
  }

  pd.page({
    name: 'incoming',
    match: (parts) => (parts[0] === 'incoming' && parts.length === 1 ? {} : null),
    nav: { href: '#/incoming', id: 'nav-incoming', text: 'Incoming Email Log' },
    view: viewList,
  });
  pd.page({
    name: 'incoming-one',
    match: (parts) => (parts[0] === 'incoming' && parts.length === 2 && ID_RE.test(parts[1]) ? { id: parts[1] } : null),
    view: viewOne,
  });
}());
