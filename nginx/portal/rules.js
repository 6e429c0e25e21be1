/* postdesk portal — Configuration > Email > Email Rules (#/rules).
 *
 * List, create, edit, delete and reorder email rules, and the dry run: what
 * the rules would do with the last 100 incoming emails.  Built on the
 * helpers app.js exports as window.postdesk; same rules as every portal
 * script (dom.js): DOM by createElement/textContent only (mail subjects
 * and addresses are untrusted), no inline styles, every change through
 * api() (CSRF).
 */
'use strict';

(function () {
  const pd = window.postdesk;
  if (!pd) return;
  const { h, api, replace } = pd;

  const FIELDS = [
    { id: 'from', name: 'From' }, { id: 'to', name: 'To' }, { id: 'cc', name: 'Cc' },
    { id: 'subject', name: 'Subject' }, { id: 'body', name: 'Body' }, { id: 'header', name: 'Header…' },
  ];
  const OPS = [
    { id: 'contains', name: 'contains' }, { id: 'equals', name: 'equals' },
    { id: 'ends_with', name: 'ends with' }, { id: 'glob', name: 'matches (* and ?)' },
  ];
  const PRIORITIES = [
    { id: '', name: 'Leave as is' }, { id: 'low', name: 'Low' }, { id: 'normal', name: 'Normal' },
    { id: 'high', name: 'High' }, { id: 'urgent', name: 'Urgent' },
  ];
  const OUTCOMES = {
    ticket_created: 'Ticket created', ticket_updated: 'Ticket updated', ignored_by_rule: 'Ignored by rule',
    suppressed_loop: 'Suppressed (loop)', rejected: 'Rejected', error: 'Error',
  };
  const MAX_CONDS = 20;

  function nameOf(list, id) {
    const x = list.find((o) => o.id === id);
    return x ? x.name : String(id);
  }

  function condText(c) {
    const f = c.field === 'header' ? 'header ' + (c.header || '') : nameOf(FIELDS, c.field).toLowerCase();
    return f + ' ' + nameOf(OPS, c.op) + ' “' + c.value + '”';
  }

  function actionsText(a) {
    a = a || {};
    const out = [];
    if (a.ignore) out.push('ignore');
    if (a.priority) out.push('priority ' + a.priority);
    if (a.category) out.push('category “' + a.category + '”');
    if (a.no_ack) out.push("don't acknowledge");
    if (a.stop) out.push('stop');
    return out.length ? out.join(', ') : 'create ticket';
  }

  async function loadMailboxes() {
    try {
      const r = await api('GET', '/api/mailboxes');
      return (r.data && r.data.items) || [];
    } catch (err) {
      if (err.handled) throw err;
      return [];
    }
  }

  // ------------------------------------------------------------- list

  function crumbs(last) {
    const items = [{ text: 'Configuration' }, { text: 'Email' }, { text: 'Email Rules', href: '#/rules' }];
    if (last) items.push({ text: last });
    return pd.breadcrumb(items);
  }

  function needsAdmin(main) {
    main.appendChild(h('div', { class: 'notice', id: 'needs-admin', role: 'note' },
      h('p', { class: 'notice-title', text: 'Email rules need an admin' }),
      h('p', { text: 'You are signed in as an agent. Ask a postdesk administrator to add or change email rules.' })));
  }

  async function viewList(ctx, main) {
    pd.setTitle('Email Rules');
    const admin = pd.agent().role === 'admin';
    const dryBtn = h('button', { type: 'button', class: 'btn btn-quiet', id: 'rules-dry-run' }, 'Dry run');
    replace(main, crumbs(null),
      pd.pageHeading('Email Rules', admin ? [dryBtn,
        h('a', { class: 'btn btn-primary', id: 'rule-new', href: '#/rules/new' }, 'New rule')] : null),
      h('p', { class: 'help', text: 'Rules run on every incoming email, top to bottom, before a ticket is created. An ignored email is still logged and moved, but makes no ticket.' }),
      pd.takeFlash());
    pd.focusHeading();
    if (!admin) { needsAdmin(main); return; }
    const slot = h('div', { id: 'rule-list-slot' }, pd.loading('Loading rules…'));
    const drySlot = h('div', { id: 'dry-run-slot' });
    main.appendChild(slot);
    main.appendChild(drySlot);
    dryBtn.addEventListener('click', () => runDry(ctx, drySlot, dryBtn, undefined));
    let rules;
    try {
      const r = await api('GET', '/api/rules');
      rules = (r.data && r.data.items) || [];
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, pd.problemBlock(err, { id: 'list-error' }));
      return;
    }
    if (!ctx.alive()) return;
    if (rules.length === 0) {
      replace(slot, h('div', { class: 'empty', id: 'rules-empty' },
        h('p', { class: 'empty-title', text: 'No email rules yet' }),
        h('p', { class: 'muted', text: 'Without rules every incoming email becomes a ticket. Add a rule to bin newsletters, raise the priority of mail from important senders, or skip the acknowledgement.' }),
        h('a', { class: 'btn btn-primary', href: '#/rules/new' }, 'Add the first rule')));
      return;
    }
    replace(slot, ruleTable(ctx, rules, slot));
  }

  function ruleTable(ctx, rules, slot) {
    const tbody = h('tbody');
    rules.forEach((r, i) => {
      const up = h('button', { type: 'button', class: 'btn btn-quiet btn-small rule-up', disabled: i === 0, 'aria-label': 'Move “' + r.name + '” up' }, '↑');
      const down = h('button', { type: 'button', class: 'btn btn-quiet btn-small rule-down', disabled: i === rules.length - 1, 'aria-label': 'Move “' + r.name + '” down' }, '↓');
      const del = h('button', { type: 'button', class: 'btn btn-quiet btn-small rule-delete', 'aria-label': 'Delete “' + r.name + '”' }, 'Delete');
      up.addEventListener('click', () => move(ctx, rules, i, i - 1, slot));
      down.addEventListener('click', () => move(ctx, rules, i, i + 1, slot));
      del.addEventListener('click', () => confirmDelete(ctx, r, del));
      const conds = h('ul', { class: 'rule-conds' }, r.conditions.map((c) => h('li', { text: condText(c) })));
      tbody.appendChild(h('tr', { class: ['rule-row', r.enabled ? '' : 'rule-disabled'], dataset: { id: r.id } },
        h('td', { class: 'cell-position', 'data-label': 'Order', text: String(i + 1) }),
        h('td', { class: 'cell-name' },
          h('a', { href: '#/rules/' + encodeURIComponent(r.id), class: 'rule-link', text: r.name }),
          r.enabled ? null : h('span', { class: 'badge badge-neutral', text: 'Disabled' })),
        h('td', { 'data-label': 'Mailbox', text: window.postdeskList.mailboxName(r.mailbox, 'All mailboxes') }),
        h('td', { 'data-label': 'When' },
          h('span', { class: 'muted', text: r.match === 'any' ? 'any of:' : 'all of:' }), conds),
        h('td', { 'data-label': 'Then', text: actionsText(r.actions) }),
        h('td', { class: 'cell-actions' }, h('div', { class: 'inline-actions' }, up, down, del))));
    });
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'rule-table' },
        h('caption', { class: 'visually-hidden', text: 'Email rules in the order they run' }),
        h('thead', null, h('tr', null,
          ['#', 'Name', 'Mailbox', 'When', 'Then', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
        tbody));
  }

  /* Swap two neighbours; positions are renumbered 10, 20, … when needed. */
  async function move(ctx, rules, from, to, slot) {
    const order = rules.slice();
    const [r] = order.splice(from, 1);
    order.splice(to, 0, r);
    const changes = [];
    order.forEach((x, i) => {
      if (x.position !== (i + 1) * 10) changes.push({ id: x.id, position: (i + 1) * 10 });
    });
    try {
      for (const c of changes) {
        await api('PATCH', '/api/rules/' + encodeURIComponent(c.id), { position: c.position });
      }
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      slot.prepend(pd.problemBlock(err, { id: 'move-error' }));
      return;
    }
    if (ctx.alive()) pd.go('#/rules');
  }

  function confirmDelete(ctx, rule, opener) {
    const errorSlot = h('div', { id: 'confirm-error' });
    const yes = h('button', { type: 'button', class: 'btn btn-danger', id: 'confirm-delete' }, 'Delete rule');
    const no = h('button', { type: 'button', class: 'btn btn-quiet', id: 'confirm-cancel' }, 'Cancel');
    const dialog = h('dialog', { class: 'dialog', id: 'confirm-dialog', 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title', text: 'Delete rule “' + rule.name + '”?' }),
      h('p', { text: 'Incoming emails are no longer checked against it. This cannot be undone.' }),
      errorSlot, h('div', { class: 'dialog-actions' }, no, yes));
    function close() {
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener && document.body.contains(opener)) opener.focus();
    }
    pd.onLeave(() => { if (dialog.open) dialog.close(); dialog.remove(); });
    no.addEventListener('click', close);
    dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(); });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      try {
        await api('DELETE', '/api/rules/' + encodeURIComponent(rule.id));
      } catch (err) {
        if (!ctx.alive() || err.handled) return;
        if (err.status !== 404) {
          yes.disabled = false;
          no.disabled = false;
          replace(errorSlot, pd.problemBlock(err));
          return;
        }
      }
      if (!ctx.alive()) return;
      pd.flash('ok', 'Rule “' + rule.name + '” deleted.');
      close();
      pd.go('#/rules');
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    no.focus();
  }

  // ----------------------------------------------------------- dry run

  /* POST /api/rules/dry-run with body (undefined: the stored rules). */
  async function runDry(ctx, slot, btn, body) {
    btn.disabled = true;
    replace(slot, pd.loading('Running the rules over the last 100 incoming emails…'));
    try {
      const r = await api('POST', '/api/rules/dry-run', body);
      if (!ctx.alive()) return;
      replace(slot, dryTable(r.data || {}));
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, pd.problemBlock(err, { id: 'dry-run-error' }));
    } finally {
      btn.disabled = false;
    }
  }

  function dryTable(data) {
    const items = Array.isArray(data.items) ? data.items : [];
    const head = h('h2', { id: 'dry-run-title', text: 'Dry run' });
    const note = h('p', { class: 'help', id: 'dry-run-summary',
      text: items.length + ' recent incoming email' + (items.length === 1 ? '' : 's') + ', ' + data.rules +
        ' rule' + (data.rules === 1 ? '' : 's') + ' tried. Nothing was changed.' });
    if (items.length === 0) {
      return h('section', { class: 'card panel', id: 'dry-run' }, head, note,
        h('p', { class: 'muted', text: 'No incoming email has been logged yet.' }));
    }
    const tbody = h('tbody');
    for (const it of items) {
      const changed = (it.would === 'ignore') !== (it.outcome_then === 'ignored_by_rule');
      tbody.appendChild(h('tr', { class: ['dry-row', changed ? 'dry-changed' : ''], dataset: { id: it.incoming_email_id } },
        h('td', { 'data-label': 'Received' }, window.postdeskFmt.time(it.received_at || it.created_at)),
        h('td', { 'data-label': 'Mailbox', class: 'dry-mailbox', text: window.postdeskList.mailboxName(it.mailbox) }),
        h('td', { 'data-label': 'From', text: it.from || '' }),
        h('td', { 'data-label': 'Subject', text: it.subject || '(no subject)' }),
        h('td', { 'data-label': 'Then', text: OUTCOMES[it.outcome_then] || String(it.outcome_then) }),
        h('td', { 'data-label': 'Rule', class: 'dry-rule', text: it.rule_name || '—' }),
        h('td', { 'data-label': 'Would', class: 'dry-would' }, h('strong', { text: it.would })),
        h('td', { 'data-label': 'Trace' },
          h('details', null, h('summary', { text: 'Why' }), h('pre', { class: 'dry-trace', text: it.trace || '' })))));
    }
    return h('section', { class: 'card panel', id: 'dry-run', 'aria-labelledby': 'dry-run-title' }, head, note,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table', id: 'dry-run-table' },
          h('caption', { class: 'visually-hidden', text: 'What the rules would do with each recent email' }),
          h('thead', null, h('tr', null,
            ['Received', 'Mailbox', 'From', 'Subject', 'Then', 'Rule', 'Would now', 'Trace'].map((t) => h('th', { scope: 'col', text: t })))),
          tbody)));
  }

  // -------------------------------------------------------------- form

  async function viewForm(ctx, main, id) {
    const editing = id !== null;
    const title = editing ? 'Edit rule' : 'New rule';
    pd.setTitle(title);
    replace(main, crumbs(title), pd.pageHeading(title));
    pd.focusHeading();
    if (pd.agent().role !== 'admin') { needsAdmin(main); return; }
    const slot = h('div', null, pd.loading());
    main.appendChild(slot);
    let rule = null, all = [], mailboxes, etag = null;
    try {
      all = (await api('GET', '/api/rules')).data.items || [];
      if (editing) {
        const r = await api('GET', '/api/rules/' + encodeURIComponent(id));
        rule = r.data;
        etag = r.headers.get('ETag'); // sent as If-Match: a 412 says "changed elsewhere"
      }
      mailboxes = await loadMailboxes();
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, pd.problemBlock(err, { id: 'form-load-error' }));
      return;
    }
    if (!ctx.alive()) return;
    replace(slot, buildForm(ctx, rule, all, mailboxes, etag));
  }

  // The parts of a condition: its API key (its control's class is
  // cond-<key>) and its words.
  const COND_PARTS = [
    { key: 'field', label: 'field' }, { key: 'header', label: 'header name' },
    { key: 'op', label: 'comparison' }, { key: 'value', label: 'value' },
  ];
  let condSeq = 0; // ids of condition controls, unique while the page lives

  function condRow(list, c, onRemove) {
    const n = ++condSeq;
    const field = h('select', { class: 'cond-field', id: 'cond-' + n + '-field' }, pd.options(FIELDS, c.field || 'subject'));
    const header = h('input', { type: 'text', class: 'cond-header', id: 'cond-' + n + '-header', placeholder: 'X-Header-Name', value: c.header || '', maxlength: '200' });
    const op = h('select', { class: 'cond-op', id: 'cond-' + n + '-op' }, pd.options(OPS, c.op || 'contains'));
    const value = h('input', { type: 'text', class: 'cond-value', id: 'cond-' + n + '-value', value: c.value || '', maxlength: '500' });
    const remove = h('button', { type: 'button', class: 'btn btn-quiet btn-small cond-remove' }, 'Remove');
    const row = h('li', { class: 'cond-row' }, field, header, op, value, remove);
    const sync = () => { header.hidden = field.value !== 'header'; };
    field.addEventListener('change', sync);
    sync();
    remove.addEventListener('click', () => onRemove(row));
    row.read = () => {
      const o = { field: field.value, op: op.value, value: value.value };
      if (field.value === 'header') o.header = header.value.trim();
      return o;
    };
    row.control = (key) => row.querySelector('.cond-' + key);
    return row;
  }

  /* "Condition 2: value": a condition's controls are named by its number
   * (renumbered when a row goes), in their labels and in error messages. */
  function condLabel(i, key) {
    const part = COND_PARTS.find((x) => x.key === key);
    return 'Condition ' + (i + 1) + (part ? ': ' + part.label : '');
  }

  function numberRows(rows) {
    rows.forEach((row, i) => {
      for (const part of COND_PARTS) row.control(part.key).setAttribute('aria-label', condLabel(i, part.key));
      row.querySelector('.cond-remove').setAttribute('aria-label', 'Remove condition ' + (i + 1));
    });
  }

  function newRule() {
    return { name: '', mailbox_id: null, enabled: true, match: 'all', conditions: [{ field: 'subject', op: 'contains', value: '' }], actions: {} };
  }

  function ruleControls(rule, r, mailboxes) {
    const a = r.actions || {};
    return {
      name: h('input', { type: 'text', id: 'rule-name', value: r.name, maxlength: '100', required: true }),
      mailbox_id: h('select', { id: 'rule-mailbox' },
        h('option', { value: '', text: 'All mailboxes', selected: r.mailbox_id === null }),
        mailboxes.map((m) => h('option', { value: String(m.id), text: m.name, selected: m.id === r.mailbox_id }))),
      position: h('input', { type: 'number', id: 'rule-position', min: '0', max: '1000000', value: rule ? String(r.position) : '' }),
      enabled: h('input', { type: 'checkbox', id: 'rule-enabled', checked: r.enabled }),
      match: h('select', { id: 'rule-match' }, pd.options([{ id: 'all', name: 'All conditions match' }, { id: 'any', name: 'Any condition matches' }], r.match)),
      ignore: h('input', { type: 'checkbox', id: 'rule-ignore', checked: !!a.ignore }),
      priority: h('select', { id: 'rule-priority' }, pd.options(PRIORITIES, a.priority || '')),
      category: h('input', { type: 'text', id: 'rule-category', value: a.category || '', maxlength: '100' }),
      no_ack: h('input', { type: 'checkbox', id: 'rule-no-ack', checked: !!a.no_ack }),
      stop: h('input', { type: 'checkbox', id: 'rule-stop', checked: !!a.stop }),
    };
  }

  /* The list of condition rows and its Add button (at most MAX_CONDS rows,
   * at least one). */
  function conditionList(conditions) {
    const list = h('ol', { class: 'cond-list', id: 'rule-conditions' });
    const add = h('button', { type: 'button', class: 'btn btn-quiet btn-small', id: 'cond-add' }, 'Add condition');
    const rows = () => Array.from(list.children);
    const syncAdd = () => {
      add.disabled = rows().length >= MAX_CONDS;
      for (const row of rows()) row.querySelector('.cond-remove').disabled = rows().length === 1;
      numberRows(rows());
    };
    const addRow = (cond) => { list.appendChild(condRow(list, cond, (row) => { row.remove(); syncAdd(); })); syncAdd(); };
    conditions.forEach(addRow);
    add.addEventListener('click', () => { addRow({ field: 'subject', op: 'contains', value: '' }); rows()[rows().length - 1].querySelector('.cond-value').focus(); });
    return { list, add, rows };
  }

  // The rule form's state, f: {ctx, rule (null: new), all (the stored
  // rules), etag, c (the controls), conds (conditionList()), controlFor
  // (API field -> control), formError, errors (pd.formErrors of the form),
  // saveBtn, tryBtn, drySlot}.

  function payload(f) {
    const c = f.c;
    const body = {
      name: c.name.value.trim(),
      mailbox_id: c.mailbox_id.value ? Number(c.mailbox_id.value) : null,
      enabled: c.enabled.checked,
      match: c.match.value,
      conditions: f.conds.rows().map((row) => row.read()),
      actions: {
        ignore: c.ignore.checked, priority: c.priority.value || null,
        category: c.category.value.trim() || null, no_ack: c.no_ack.checked, stop: c.stop.checked,
      },
    };
    if (c.position.value !== '') body.position = Number(c.position.value);
    return body;
  }

  /* A field name of the rule on the form ("conditions[0].value"): its
   * control and its words (pd.formErrors; a control's words are its label). */
  function ownField(f, name) {
    const c = /^conditions\[(\d+)\](?:\.(\w+))?$/.exec(name);
    if (c) {
      const row = f.conds.rows()[+c[1]];
      const key = COND_PARTS.some((x) => x.key === c[2]) ? c[2] : null;
      return { control: row ? row.control(key || 'value') : null, label: condLabel(+c[1], key) };
    }
    const words = { conditions: 'Conditions', actions: 'Then', id: 'Rule', '': 'Rule' };
    if (Object.prototype.hasOwnProperty.call(words, name)) return { label: words[name] };
    return f.controlFor[name] ? { control: f.controlFor[name] } : null;
  }

  /* The field names of an answer about this rule.  A dry run sends the
   * rules as rules[i]: idx is this rule's i; another rule's errors are
   * named by that rule (stored rules were valid when saved). */
  function ruleField(f, idx) {
    return (name) => {
      const m = /^rules\[(\d+)\]\.?(.*)$/.exec(name);
      if (!m || idx === null) return ownField(f, name);
      if (+m[1] === idx) return ownField(f, m[2]);
      const other = f.all[+m[1]];
      return { label: 'Stored rule “' + (other ? other.name : +m[1] + 1) + '”' };
    };
  }

  async function save(f, ev) {
    ev.preventDefault();
    f.errors.clear();
    f.saveBtn.disabled = true;
    try {
      if (f.rule) await api('PATCH', '/api/rules/' + encodeURIComponent(f.rule.id), payload(f), { ifMatch: f.etag });
      else await api('POST', '/api/rules', payload(f));
      if (!f.ctx.alive()) return;
      pd.flash('ok', 'Rule “' + payload(f).name + '” saved.');
      pd.go('#/rules');
    } catch (err) {
      if (!f.ctx.alive() || err.handled) return;
      f.errors.show(err);
    } finally {
      f.saveBtn.disabled = false;
    }
  }

  /* The stored rules with this one as edited (or added last), and its index. */
  function rulesAsEdited(f) {
    const mine = payload(f);
    const rule = f.rule;
    const set = f.all.map((x) => {
      if (rule && x.id === rule.id) return Object.assign({ id: x.id, position: x.position }, mine);
      return { id: x.id, name: x.name, mailbox_id: x.mailbox_id, position: x.position, enabled: x.enabled,
        match: x.match, conditions: x.conditions, actions: x.actions };
    });
    if (!rule) set.push(Object.assign({ position: 1000000 }, mine));
    const idx = rule ? f.all.findIndex((x) => x.id === rule.id) : set.length - 1;
    return { set, idx };
  }

  async function tryRules(f) {
    f.errors.clear();
    const { set, idx } = rulesAsEdited(f);
    f.tryBtn.disabled = true;
    replace(f.drySlot, pd.loading('Running the rules over the last 100 incoming emails…'));
    try {
      const res = await api('POST', '/api/rules/dry-run', { rules: set });
      if (!f.ctx.alive()) return;
      replace(f.drySlot, dryTable(res.data || {}));
    } catch (err) {
      if (!f.ctx.alive() || err.handled) return;
      replace(f.drySlot);
      pd.formErrors(f.form, f.formError, ruleField(f, idx), { notSaved: 'The dry run did not run' }).show(err);
    } finally {
      f.tryBtn.disabled = false;
    }
  }

  function check(control, label, help) {
    return h('div', { class: 'field field-check' }, control,
      h('label', { htmlFor: control.id, text: label }), help ? h('p', { class: 'help', text: help }) : null);
  }

  /* Two columns: what the rule is and when it runs (wide, the conditions
   * need the room), and what it does beside them.  rules.css places them,
   * and the summary above both, so they never change column. */
  function formSections(c, conds) {
    return [
      h('div', { class: 'rule-main' },
      h('section', { class: 'card panel' },
        h('h2', { text: 'Rule' }),
        pd.field('rule-name', 'Name', c.name, 'e.g. “Bin newsletters”.'),
        pd.field('rule-mailbox', 'Mailbox', c.mailbox_id, 'The rule runs only on mail to this mailbox, or on all.'),
        pd.field('rule-position', 'Position', c.position, 'Rules run from the lowest position up; leave empty to put a new rule last.'),
        check(c.enabled, 'Enabled')),
      h('section', { class: 'card panel' },
        h('h2', { text: 'When' }),
        pd.field('rule-match', 'Match', c.match, 'Letters compare case-insensitively. To and Cc match when any address does.'),
        conds.list, conds.add)),
      h('div', { class: 'rule-side' },
      h('section', { class: 'card panel' },
        h('h2', { text: 'Then' }),
        check(c.ignore, 'Ignore the email', 'No ticket is created; the email is still logged and moved. No later rule runs.'),
        pd.field('rule-priority', 'Priority', c.priority, null),
        pd.field('rule-category', 'Category', c.category, 'Set on the new ticket; empty leaves it.'),
        check(c.no_ack, "Don't acknowledge", 'No automatic reply is sent for this email.'),
        check(c.stop, 'Stop', 'Later rules do not run for this email.'))),
    ];
  }

  function buildForm(ctx, rule, all, mailboxes, etag) {
    const r = rule || newRule();
    const c = ruleControls(rule, r, mailboxes);
    const f = {
      ctx, rule, all, etag, c,
      conds: conditionList(r.conditions),
      controlFor: { name: c.name, mailbox_id: c.mailbox_id, position: c.position, enabled: c.enabled, match: c.match,
        'actions.ignore': c.ignore, 'actions.priority': c.priority, 'actions.category': c.category,
        'actions.no_ack': c.no_ack, 'actions.stop': c.stop },
      formError: h('div', { id: 'form-error', class: 'form-error', tabindex: '-1', hidden: true, role: 'alert' }),
      saveBtn: h('button', { type: 'submit', class: 'btn btn-primary', id: 'rule-save' }, rule ? 'Save rule' : 'Create rule'),
      tryBtn: h('button', { type: 'button', class: 'btn btn-quiet', id: 'rule-try' }, 'Dry run with this rule'),
      drySlot: h('div', { id: 'dry-run-slot' }),
    };
    f.tryBtn.addEventListener('click', () => tryRules(f));
    f.form = h('form', { class: 'rule-form', id: 'rule-form', novalidate: true },
      f.formError,
      formSections(c, f.conds),
      h('div', { class: 'form-actions' }, f.saveBtn, f.tryBtn,
        h('a', { class: 'btn btn-quiet', href: '#/rules', id: 'rule-cancel' }, 'Cancel')),
      f.drySlot);
    f.errors = pd.formErrors(f.form, f.formError, ruleField(f, null), { notSaved: 'The rule was not saved' });
    f.form.addEventListener('submit', (ev) => save(f, ev));
    return f.form;
  }

  // ------------------------------------------------------------ route

  pd.page({
    name: 'rules',
    nav: { href: '#/rules', id: 'nav-rules', text: 'Email Rules' },
    match(parts) {
      if (parts[0] !== 'rules') return null;
      if (parts.length === 1) return { view: 'list' };
      if (parts.length === 2 && parts[1] === 'new') return { view: 'form', id: null };
      if (parts.length === 2 && /^[1-9][0-9]{0,17}$/.test(parts[1])) return { view: 'form', id: parts[1] };
      return null;
    },
    view(ctx, main, route) {
      if (route.view === 'list') viewList(ctx, main);
      else viewForm(ctx, main, route.id);
    },
  });
}());
