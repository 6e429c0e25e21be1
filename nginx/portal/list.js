/* postdesk portal — the machinery the list pages share (tickets.js,
 * incoming.js, outgoing.js), as window.postdeskList: filters read from and
 * written to the query part of the hash route, a page of a list API with
 * next_cursor paging, tables, badges, "Any …" selects and ticket links.
 * Built on window.postdesk; loaded after app.js and before the list pages.
 * Everything reaches the page through h() (textContent), never as markup.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  if (!pd) return;
  const { h, api, replace } = pd;

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

  /* A select whose first option ("Any …") is no filter. */
  function anySelect(props, anyText, opts) {
    return h('select', props, h('option', { value: '', text: anyText }), opts);
  }

  function mailboxSelect(props, mailboxes, selected) {
    return anySelect(props, 'Any mailbox',
      mailboxes.map((m) => h('option', { value: String(m.id), selected: String(m.id) === selected, text: m.name })));
  }

  /* The filter bar: [label, control] pairs (a null control is left out),
   * the Filter button, then extra; onSubmit() goes to the new hash. */
  function filterForm(id, fields, applyId, onSubmit, extra) {
    const form = h('form', { class: 'filters', id, role: 'search' },
      fields.filter((f) => f[1]).map(([text, control]) => [h('label', { htmlFor: control.id, text }), control]),
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

  /* One page of a list API into slot, with First/Next links.
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
    const nav = h('p', { class: 'inline-actions pager' },
      q.get('cursor') ? h('a', { class: 'btn btn-quiet', id: o.first[0], href: listHash(o.route, base) }, o.first[1]) : null,
      page && page.next_cursor
        ? h('a', { class: 'btn btn-quiet', id: o.next[0],
          href: listHash(o.route, Object.assign({ cursor: String(page.next_cursor) }, base)) }, o.next[1])
        : null);
    if (items.length === 0) {
      replace(slot, h('div', { class: 'empty', id: o.empty[0] },
        h('p', { class: 'empty-title', text: o.empty[1] }),
        h('p', { class: 'muted', text: o.empty[2] })), nav);
      return;
    }
    replace(slot, o.render(items), nav);
  }

  window.postdeskList = Object.freeze({
    hashQuery, listHash, badge, nameAddress, ticketLink, anySelect, mailboxSelect,
    filterForm, table, showPage,
  });
}());
