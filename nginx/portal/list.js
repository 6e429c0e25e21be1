/* postdesk portal — the machinery the list pages share (tickets.js,
 * incoming.js, outgoing.js), as window.postdeskList: filters read from and
 * written to the query part of the hash route, a page of a list API with
 * next_cursor paging, the count line ("1–50 of 312 tickets") from the
 * answer's total, empty states, tables, cells that cut long values (the
 * whole value in the title), badges, "Any …" selects and ticket links.
 * Built on window.postdesk and window.postdeskFmt (fmt.js); loaded after
 * app.js and before the list pages.
 * Everything reaches the page through h() (textContent), never as markup.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  if (!pd) return;
  const { h, api, replace } = pd;
  const F = window.postdeskFmt;

  /* Per list: what its items are called, and its empty state when no
   * filter is set (with filters set it is "Nothing matches these filters"). */
  const LISTS = {
    '#/tickets': { one: 'ticket', many: 'tickets', none: 'No tickets yet',
      hint: 'Mail to a connected mailbox becomes a ticket at the scanner’s next pass.' },
    '#/incoming': { one: 'mail', many: 'mails', none: 'No incoming email yet',
      hint: 'Every mail the scanner takes from an Inbox is listed here.' },
    '#/outgoing': { one: 'mail', many: 'mails', none: 'No outgoing email yet',
      hint: 'Acknowledgements and replies are listed here from the moment they are queued.' },
  };
  // The hash parameter that carries where the page starts (1-based): the
  // cursor is opaque, so the portal counts the rows it has paged past.
  const FROM = 'from';

  /* The query part of the hash route (#/tickets?status=open). */
  function hashQuery() {
    const i = location.hash.indexOf('?');
    return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
  }

  /* route ('#/tickets') with the non-empty params as its query. */
  function listHash(route, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    const s = q.toString();
    return route + (s ? '?' + s : '');
  }

  /* A badge for id out of list ([{id, name, kind}]); data-<key>="id". */
  function badge(list, id, key) {
    const o = list.find((x) => x.id === id) || { name: String(id || ''), kind: 'neutral' };
    return h('span', { class: ['badge', 'badge-' + (o.kind || 'neutral')], dataset: { [key]: id || '' }, text: o.name });
  }

  /* "name <address>", or just the address when the name adds nothing. */
  function nameAddress(name, address) {
    return name && name !== address ? name + ' <' + (address || '') + '>' : (address || '');
  }

  function ticketLink(id) {
    if (!id) return h('span', { class: 'muted', text: '—' });
    return h('a', { class: 'ticket-link', href: '#/tickets/' + encodeURIComponent(id), text: '#' + id });
  }

  /* A cell's text cut to one line with an ellipsis (app.css .trunc), the
   * whole value in the title (hover) and for screen readers as the text. */
  function trunc(text, cls) {
    const s = String(text || '');
    return h('span', { class: ['trunc', cls], title: s, text: s });
  }

  /* A mailbox reference ({id, name}, as every API item has it) in words:
   * its name, "Mailbox N" once deleted, none (null) as given. */
  function mailboxName(m, none) {
    if (!m) return none || '';
    return m.name || 'Mailbox ' + m.id;
  }

  /* A select whose first option ("Any …") is no filter. */
  function anySelect(props, anyText, opts) {
    return h('select', props, h('option', { value: '', text: anyText }), opts);
  }

  function mailboxSelect(props, mailboxes, selected) {
    return anySelect(props, 'Any mailbox',
      mailboxes.map((m) => h('option', { value: String(m.id), selected: String(m.id) === selected, text: m.name })));
  }

  /* The filter bar: [label, control] pairs (a null control is left out),
   * each kept together (.filter) when the bar wraps, the Filter button,
   * then extra; onSubmit() goes to the new hash. */
  function filterForm(id, fields, applyId, onSubmit, extra) {
    const form = h('form', { class: 'filters', id, role: 'search' },
      fields.filter((f) => f[1]).map(([text, control]) =>
        h('span', { class: 'filter' }, h('label', { htmlFor: control.id, text }), control)),
      h('button', { type: 'submit', class: 'btn btn-primary', id: applyId }, 'Filter'), extra);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      onSubmit();
    });
    return form;
  }

  function table(props, caption, heads, rows) {
    return h('div', { class: 'table-wrap' },
      h('table', props,
        h('caption', { class: 'visually-hidden', text: caption }),
        h('thead', null, h('tr', null, heads.map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, rows)));
  }

  /* "1–50 of 312 tickets" above the table. */
  function countLine(o, page, first, shown) {
    const names = LISTS[o.route] || { one: 'item', many: 'items' };
    const id = o.empty[0].replace(/-empty$/, '') + '-count';
    const total = page && typeof page.total === 'number' ? page.total : null;
    const text = total === null
      ? F.plural(shown, names.one, names.many) + ' shown'
      : F.range(first, shown, total, names.one, names.many);
    return h('p', { class: 'list-count', id, role: 'status', dataset: { total: total === null ? '' : total }, text });
  }

  /* The empty state: for the filters set, or for the list itself. */
  function emptyState(o, filtered) {
    const names = LISTS[o.route] || { none: o.empty[1], hint: o.empty[2] };
    if (!filtered) {
      return h('div', { class: 'empty', id: o.empty[0] },
        h('p', { class: 'empty-title', text: names.none }), h('p', { class: 'muted', text: names.hint }));
    }
    return h('div', { class: 'empty', id: o.empty[0] },
      h('p', { class: 'empty-title', text: 'Nothing matches these filters' }),
      h('p', { class: 'muted' }, 'Change the filters or ', h('a', { href: o.route, id: o.empty[0] + '-clear' }, 'show everything'), '.'));
  }

  /* First/Next links; base: the filters, first: where this page starts. */
  function pager(o, page, base, first, shown) {
    const q = o.query;
    return h('p', { class: 'inline-actions pager' },
      q.get('cursor') ? h('a', { class: 'btn btn-quiet', id: o.first[0], href: listHash(o.route, base) }, o.first[1]) : null,
      page && page.next_cursor
        ? h('a', { class: 'btn btn-quiet', id: o.next[0],
          href: listHash(o.route, Object.assign({}, base, { cursor: String(page.next_cursor), [FROM]: String(first + shown) })) },
        o.next[1])
        : null);
  }

  /* One page of a list API into slot, with its count and First/Next links.
   * o: {route, query, keys (the filters, in order), path, limit, errorId,
   * first: [id, text], next: [id, text], empty: [id, title, text],
   * render(items) -> node}. */
  async function showPage(ctx, slot, o) {
    const q = o.query;
    const params = new URLSearchParams();
    for (const k of o.keys.concat(['cursor'])) if (q.get(k)) params.set(k, q.get(k));
    params.set('limit', String(o.limit));
    let page;
    try {
      page = (await api('GET', o.path + '?' + params.toString())).data;
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, pd.problemBlock(err, { id: o.errorId }));
      return;
    }
    if (!ctx.alive()) return;
    const items = (page && page.items) || [];
    const base = {};
    for (const k of o.keys) base[k] = q.get(k);
    const first = q.get('cursor') ? Math.max(1, parseInt(q.get(FROM), 10) || 1) : 1;
    const nav = pager(o, page, base, first, items.length);
    if (items.length === 0) {
      replace(slot, emptyState(o, o.keys.some((k) => q.get(k))), nav);
      return;
    }
    replace(slot, countLine(o, page, first, items.length), o.render(items), nav);
  }

  window.postdeskList = Object.freeze({
    hashQuery, listHash, badge, nameAddress, ticketLink, anySelect, mailboxSelect,
    filterForm, table, showPage, trunc, mailboxName,
  });
}());
