/* postdesk portal — a ticket's conversation and its composer, as
 * window.postdeskConv (tickets.js draws the ticket page with them).
 *
 * Each action says what it is in words, not by colour alone: customer mail
 * (left), automatic mail such as auto-replies (left, grey, "Automatic"),
 * agent replies and acknowledgements (right, with where their outgoing mail
 * stands: queued, sending, held, sent, or "Not sent: <error>" linking to
 * Outgoing Email), internal notes (yellow, "Internal note — not mailed"),
 * and one-line events (status, priority, category, assignment changes).
 * The composer puts a Note mode beside the reply box of outgoing.js.
 * Mail content is hostile: it reaches the page through textContent (h()).
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const F = window.postdeskFmt;
  if (!pd || !F) return;
  const { h, api, replace } = pd;

  // Kinds drawn as one line: what changed, when and by whom.
  const EVENTS = ['status', 'priority', 'category', 'assignment'];
  // The outgoing_email row's status, in words (null: the plain "Sent" line).
  const DELIVERY = {
    queued: { kind: 'neutral', text: 'Queued', help: 'The scanner sends it on its next run.' },
    sending: { kind: 'warn', text: 'Sending', help: 'The scanner is sending it now.' },
    held: { kind: 'warn', text: 'Held', help: 'Sent after the mailbox is authorized again.' },
    sent: { kind: 'ok', text: 'Sent', help: '' },
    failed: { kind: 'bad', text: 'Not sent', help: '' },
  };

  function sizeText(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1048576).toFixed(1) + ' MB';
  }

  /* "Name" of an agent id out of names ({id: {name, username}}). */
  function agentName(names, id, fallback) {
    const a = id ? names[id] : null;
    return a ? (a.name || a.username) : fallback;
  }

  function attachmentList(files) {
    if (!files || files.length === 0) return null;
    return h('ul', { class: 'attachment-list' }, files.map((f) => h('li', null,
      h('a', { class: 'attachment-link', href: f.url, download: f.name || 'attachment', rel: 'noopener', text: f.name || 'attachment' }),
      h('span', { class: 'muted', text: ' (' + sizeText(f.size) + (f.inline ? ', inline' : '') + ')' }))));
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

  /* Which side and label an action gets: {cls, label, badge}. */
  function role(a, names) {
    if (a.kind === 'note') {
      const by = a.author ? (a.author.name || a.author.username) : agentName(names, a.agent_id, 'an agent');
      return { cls: 'conv-note', label: 'Internal note — not mailed', who: 'by ' + by, badge: 'warn' };
    }
    if (a.kind === 'email_out') {
      if (a.outgoing ? a.outgoing.kind === 'ack' : !a.agent_id) { // an acknowledgement has no agent
        return { cls: 'conv-out conv-auto-out', label: 'Acknowledgement', who: 'sent automatically by postdesk', badge: 'neutral' };
      }
      return { cls: 'conv-out', label: 'Agent reply', who: agentName(names, a.agent_id, ''), badge: 'ok' };
    }
    if (a.automatic) return { cls: 'conv-in conv-auto', label: 'Automatic mail', who: 'auto-reply or bulk mail', badge: 'neutral' };
    return { cls: 'conv-in', label: 'Customer', who: '', badge: 'info' };
  }

  /* Where an outgoing mail stands; a failure with its error and a link. */
  function deliveryLine(a, tid) {
    const o = a.outgoing;
    if (!o) return null;
    const d = DELIVERY[o.status] || { kind: 'neutral', text: String(o.status || ''), help: '' };
    const failed = o.status === 'failed';
    return h('div', { class: ['conv-delivery', 'conv-delivery-' + d.kind], dataset: { status: o.status || '' },
      role: failed ? 'note' : null },
    failed ? h('strong', { class: 'conv-delivery-error', text: 'Not sent: ' + (o.error || 'the mailbox refused it') })
      : h('span', { class: ['badge', 'badge-' + d.kind], text: d.text }),
    d.help ? h('span', { class: 'muted', text: ' ' + d.help }) : null,
    failed || o.status === 'held'
      ? h('a', { class: 'conv-outgoing-link', href: '#/outgoing?ticket=' + encodeURIComponent(tid),
        text: 'See it in Outgoing Email' })
      : null);
  }

  function headList(a) {
    return h('dl', { class: 'conv-head' },
      h('dt', { text: 'From' }), h('dd', { class: 'conv-from', text: a.from || '' }),
      a.to ? [h('dt', { text: 'To' }), h('dd', { class: 'conv-to', text: a.to })] : null,
      a.cc ? [h('dt', { text: 'Cc' }), h('dd', { class: 'conv-cc', text: a.cc })] : null,
      h('dt', { text: 'Date' }), h('dd', { class: 'conv-date' }, F.time(a.created_at)));
  }

  function eventLine(a) {
    return h('li', { class: ['conv-item', 'conv-event', a.kind === 'status' ? 'conv-status' : null],
      dataset: { id: a.id, kind: a.kind } },
    h('p', { class: 'muted small' },
      F.time(a.created_at), ' — ', h('span', { class: 'conv-body', text: a.body || '' })));
  }

  /* One action of the conversation; c: {ticketId, names (agents by id)}. */
  function actionCard(a, c) {
    if (EVENTS.includes(a.kind)) return eventLine(a);
    const r = role(a, c.names);
    const body = h('div', { class: 'conv-body', text: a.body || '' });
    const label = h('p', { class: 'conv-label' },
      h('span', { class: ['badge', 'badge-' + r.badge, 'conv-kind'], text: r.label }),
      r.who ? h('span', { class: 'muted small conv-who', text: ' ' + r.who }) : null,
      a.kind === 'note' ? h('span', { class: 'muted small conv-when' }, ' · ', F.time(a.created_at)) : null);
    const card = h('li', { class: ['conv-item', 'card', r.cls], dataset: { id: a.id, kind: a.kind } }, label);
    if (a.kind === 'note') {
      card.append(body);
      return card;
    }
    card.append(h('p', { class: 'conv-subject', text: a.subject || '(no subject)' }), headList(a),
      deliveryLine(a, c.ticketId) || '', body);
    if (a.body_truncated) card.append(wholeBodyButton(a, body));
    const files = attachmentList(a.attachments);
    if (files) card.append(files);
    return card;
  }

  // "Older messages": the page before the oldest shown, put above it.
  function olderButton(ctx, t, list, c) {
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
        list.prepend(...page.items.map((a) => actionCard(a, c)));
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

  // ------------------------------------------------------------ composer

  /* The internal note box: POST /api/tickets/{id}/notes, never mailed. */
  function noteForm(ctx, t) {
    const body = h('textarea', { id: 'note-body', name: 'body', rows: '5', maxlength: '100000',
      'aria-describedby': 'note-body-help' });
    const add = h('button', { type: 'submit', class: 'btn btn-primary', id: 'note-add' }, 'Add internal note');
    const err = h('div', { id: 'note-error', tabindex: '-1', hidden: true });
    const form = h('form', { class: 'card note-form', id: 'note-form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { htmlFor: 'note-body' }, 'Internal note', h('span', { class: 'req', 'aria-hidden': 'true', text: ' *' })),
        body,
        h('p', { class: 'help', id: 'note-body-help', text: 'Internal — not mailed. Only agents see notes; the customer never gets them.' })),
      h('div', { class: 'form-actions' }, add), err);
    const fieldErrors = pd.formErrors(form, err, { body: 'note-body' }, { notSaved: 'The note was not added' });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      fieldErrors.clear();
      if (!body.value.trim()) {
        fieldErrors.show(pd.localProblem([{ field: 'body', message: 'Write the note first.' }]));
        return;
      }
      add.disabled = true;
      try {
        await api('POST', '/api/tickets/' + encodeURIComponent(t.id) + '/notes', { body: body.value });
        if (!ctx.alive()) return;
        pd.flash('ok', 'Internal note added. It was not mailed.');
        pd.go('#/tickets/' + t.id);
      } catch (x) {
        add.disabled = false;
        if (!ctx.alive() || x.handled) return;
        fieldErrors.show(x);
      }
    });
    return form;
  }

  /* Reply | Internal note: two pressed-state buttons that show one box. */
  function modeSwitch(reply, note) {
    const b1 = h('button', { type: 'button', class: 'btn mode-btn', id: 'mode-reply', 'aria-pressed': 'true',
      'aria-controls': 'reply-form' }, 'Reply to the customer');
    const b2 = h('button', { type: 'button', class: 'btn mode-btn', id: 'mode-note', 'aria-pressed': 'false',
      'aria-controls': 'note-form' }, 'Internal note (not mailed)');
    function set(noteMode) {
      b1.setAttribute('aria-pressed', noteMode ? 'false' : 'true');
      b2.setAttribute('aria-pressed', noteMode ? 'true' : 'false');
      if (reply) reply.hidden = noteMode;
      note.hidden = !noteMode;
      (noteMode ? b2 : b1).focus();
    }
    b1.addEventListener('click', () => set(false));
    b2.addEventListener('click', () => set(true));
    note.hidden = true;
    return h('div', { class: 'mode-switch', role: 'group', 'aria-label': 'What to write' }, b1, b2);
  }

  /* Puts Note mode beside the reply box inside panel (outgoing.js's
   * ticketPanel, #reply-form); without a reply box, the note box alone. */
  function composer(ctx, t, panel) {
    const note = noteForm(ctx, t);
    const reply = panel ? panel.querySelector('#reply-form') : null;
    if (!reply) {
      return h('section', { class: 'ticket-note', 'aria-labelledby': 'note-title' },
        h('h2', { id: 'note-title', text: 'Internal note' }), note);
    }
    const title = panel.querySelector('#reply-title');
    if (title) title.textContent = 'Reply or note';
    reply.before(modeSwitch(reply, note));
    reply.after(note);
    return null;
  }

  window.postdeskConv = Object.freeze({ actionCard, olderButton, composer, sizeText });
}());
