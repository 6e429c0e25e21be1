/* postdesk portal — the components pages are made of, as window.postdeskUi:
 * error boxes (problemBlock), page heading and breadcrumb, form fields,
 * options and a form's error summary, copy buttons, the confirmation
 * dialog, times.
 * Loaded after dom.js and api.js; app.js explains the order of the scripts.
 */
'use strict';

(function () {
  const { h, $, replace, announce, onLeave } = window.postdeskDom;
  const { retryAfterSeconds } = window.postdeskApi;

  function strong(text) { return h('strong', { text }); }

  // ------------------------------------------------------------ problems

  /* Title and detail of an error, in the words the portal uses for it. */
  function problemText(err) {
    const p = (err && err.problem) || {};
    let title = p.title || (err && err.message) || 'Something went wrong';
    let detail = p.detail || '';
    if (err && err.status === 429) {
      const s = retryAfterSeconds(err.headers);
      title = s !== null ? 'Too many attempts, try again in ' + s + ' s' : 'Too many attempts, try again later';
    }
    if (err && err.status === 403 && !p.detail) {
      detail = 'Your account is not allowed to do this.';
    }
    if (err && err.status === 412) {
      title = 'Changed elsewhere — reload';
      detail = 'Someone saved a change after you opened this page. Reload to see it, then make your change again.';
    }
    if (detail === title) detail = '';
    return { title, detail };
  }

  /* A readable block for any error: title, detail, guidance, reference. */
  function problemBlock(err, opts) {
    opts = opts || {};
    const p = (err && err.problem) || {};
    const { title, detail } = problemText(err);
    return h('div', { class: 'problem', id: opts.id, role: 'alert', tabindex: '-1' },
      h('p', { class: 'problem-title', text: title }),
      detail ? h('p', { class: 'problem-detail', text: detail }) : null,
      p.guidance ? h('p', { class: 'problem-guidance', text: p.guidance }) : null,
      p.request_id ? h('p', { class: 'problem-ref', text: 'Reference: ' + p.request_id }) : null,
      err && err.status === 412
        ? h('p', null, h('button', { type: 'button', class: 'btn problem-reload', text: 'Reload', onclick: () => location.reload() }))
        : null);
  }

  // ---------------------------------------------------------------- page

  function breadcrumb(items) {
    const ol = h('ol', { class: 'crumbs' });
    items.forEach((it, i) => {
      const last = i === items.length - 1;
      ol.appendChild(h('li', null,
        it.href && !last ? h('a', { href: it.href, text: it.text })
          : h('span', { 'aria-current': last ? 'page' : null, text: it.text })));
    });
    return h('nav', { class: 'crumbs-nav', 'aria-label': 'Breadcrumb' }, ol);
  }

  function pageHeading(text, actions) {
    return h('div', { class: 'page-head' },
      h('h1', { id: 'page-title', tabindex: '-1', text }),
      actions ? h('div', { class: 'page-actions' }, actions) : null);
  }

  function setTitle(text) { document.title = text + ' · postdesk'; }

  function focusHeading() {
    const t = $('page-title');
    if (t) t.focus({ preventScroll: true });
  }

  function loading(text) {
    return h('p', { class: 'loading', role: 'status', text: text || 'Loading…' });
  }

  // --------------------------------------------------------------- forms

  function options(list, selected) {
    return list.map((o) => h('option', { value: o.id, selected: o.id === selected, text: o.name }));
  }

  /* One labelled form row: label, control, help, room for an error.
   * opts: {required, optional, class, before, after, extraDescribedBy}. */
  function field(id, label, control, help, opts) {
    opts = opts || {};
    const helpId = id + '-help';
    const describedBy = [help ? helpId : null, opts.extraDescribedBy || null].filter(Boolean).join(' ');
    if (describedBy) control.setAttribute('aria-describedby', describedBy);
    const wrap = h('div', { class: ['field', opts.class], id: id + '-field' },
      h('label', { htmlFor: id },
        label,
        opts.required ? h('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }) : null,
        opts.optional ? h('span', { class: 'opt', text: ' (optional)' }) : null),
      opts.before || null,
      control,
      opts.after || null,
      help ? h('p', { class: 'help', id: helpId }, help) : null);
    if (opts.required) control.setAttribute('aria-required', 'true');
    return wrap;
  }

  // ---------------------------------------------------------------- copy

  /* Select node's text so Ctrl+C / ⌘C copies it; true when copying worked. */
  function selectAndCopy(node) {
    const sel = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(node);
    sel.removeAllRanges();
    sel.addRange(range);
    try { return document.execCommand('copy'); } catch (e) { return false; }
  }

  /* A Copy button: getText() -> {text, node} (node: where the text shows,
   * selected when the clipboard cannot be written). Its name is the words it
   * shows (text, default "Copy") followed by the rest of label for screen
   * readers only, so the name always contains what is seen (WCAG 2.5.3),
   * "Copied" included. */
  function copyButton(getText, label, text) {
    const idle = text || 'Copy';
    const shown = h('span', { text: idle });
    const rest = label && label.startsWith(idle) ? label.slice(idle.length) : '';
    const btn = h('button', { type: 'button', class: 'btn btn-small btn-copy' },
      shown, rest ? h('span', { class: 'visually-hidden', text: rest }) : null);
    let timer = null;
    onLeave(() => { if (timer) window.clearTimeout(timer); });
    function done(said) {
      shown.textContent = said;
      btn.classList.add('copied');
      announce(said);
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(() => { shown.textContent = idle; btn.classList.remove('copied'); }, 2000);
    }
    btn.addEventListener('click', async () => {
      const { text: value, node } = getText();
      try {
        if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
        await navigator.clipboard.writeText(value);
        done('Copied');
      } catch (e) {
        done(selectAndCopy(node) ? 'Copied' : 'Selected: press Ctrl+C');
      }
    });
    return btn;
  }

  // --------------------------------------------------------- form errors
  //
  // The one way a form shows what the API refused: a problem+json answer
  // with errors: [{field, message}] (docs/openapi.json, Problem and
  // FieldError).  Each form declares its fields: the API's field name ->
  // the control's id and its human label.  A message goes under the
  // control it names (aria-invalid, aria-describedby), the first bad
  // control in the form gets the focus, and the form's summary box lists
  // every message with its label; a field no form declared is named by a
  // readable label too, never by its raw path.

  /* The last resort for a field no form declared: "conditions[0].value"
   * reads "Conditions 1: value". */
  function humanLabel(name) {
    const parts = String(name).split('.').filter(Boolean).map((seg) => seg
      .replace(/\[(\d+)\]/g, (m, n) => ' ' + (Number(n) + 1))
      .replace(/_/g, ' ').trim());
    const s = parts.join(': ');
    return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
  }

  /* The visible label of a control ("" when it has none). */
  function visibleLabel(control) {
    const l = control.id ? document.querySelector('label[for="' + CSS.escape(control.id) + '"]') : null;
    if (!l) return '';
    return (l.firstChild && l.firstChild.nodeType === Node.TEXT_NODE ? l.firstChild.textContent : l.textContent).trim();
  }

  /* What fields says about one API field name: {control, label, shown}
   * (control: the element or null; shown: whether the label is on screen
   * beside it).  fields: name -> control id, or -> {id | control, label},
   * or a function(name) giving either. */
  function resolveField(fields, name) {
    let f = typeof fields === 'function' ? fields(name) : fields[name];
    if (typeof f === 'string') f = { id: f };
    f = f || {};
    const control = f.control || (f.id ? $(f.id) : null);
    const seen = control ? visibleLabel(control) : '';
    const label = f.label || seen || (control && control.getAttribute('aria-label')) || humanLabel(name);
    return { control, label, shown: !!seen };
  }

  /* "Label: message", or "Label — message" when the label has a colon. */
  function labelled(label, message) {
    if (!label) return message;
    return label + (label.includes(':') ? ' — ' : ': ') + message;
  }

  /* Where a control's message goes: under it (after any inline actions
   * attached to it); a checkbox's under its label. */
  function placeError(control, wrap, el) {
    if (control.type === 'checkbox' && wrap) { wrap.appendChild(el); return; }
    const next = control.nextElementSibling;
    const anchor = next && next.classList.contains('inline-actions') ? next : control;
    anchor.insertAdjacentElement('afterend', el);
  }

  /* The server's message for one field under its control, which is marked
   * invalid and described by it.  text: what shows (the label leads when
   * the control has none on screen). */
  function fieldError(control, fieldName, text) {
    const wrap = $(control.id + '-field') || control.closest('.field');
    if (wrap && wrap.hidden) wrap.hidden = false;
    const errId = control.id + '-error';
    let el = $(errId);
    if (el) {
      el.textContent = el.textContent + ' ' + text;
    } else {
      el = h('p', { class: 'field-error', id: errId, dataset: { field: fieldName }, text });
      placeError(control, wrap, el);
    }
    control.setAttribute('aria-invalid', 'true');
    const ids = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!ids.includes(errId)) control.setAttribute('aria-describedby', [errId].concat(ids).join(' '));
    if (wrap) wrap.classList.add('has-error');
    const hint = $(control.id + '-hint');
    if (hint) hint.hidden = true; // the server's message replaces the local hint
  }

  /* The error summary's list: each label links to its control. */
  function summaryList(items) {
    return h('ul', { class: 'problem-list' }, items.map((s) => h('li', null,
      s.control
        ? h('a', {
          href: '#' + s.control.id,
          class: 'problem-field',
          text: s.label,
          onclick: (ev) => { ev.preventDefault(); s.control.focus(); },
        })
        : (s.label ? h('span', { class: 'problem-field', text: s.label }) : null),
      s.label ? (s.label.includes(':') ? ' — ' : ': ') : '',
      h('span', { text: s.message }))));
  }

  function clearFormErrors(form, box) {
    box.hidden = true;
    box.replaceChildren();
    for (const el of form.querySelectorAll('.field-error[data-field]')) el.remove();
    for (const el of form.querySelectorAll('[aria-invalid]')) {
      el.removeAttribute('aria-invalid');
      const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
      if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
      else el.removeAttribute('aria-describedby');
    }
    for (const el of form.querySelectorAll('.has-error')) el.classList.remove('has-error');
  }

  /* The problem's field errors, each with its control and label. */
  function fieldItems(err, fields, texts) {
    const p = err.problem || {};
    const errors = Array.isArray(p.errors) ? p.errors.filter((e) => e && typeof e === 'object') : [];
    if (err.status === 409 && errors.length === 0 && texts.taken) {
      errors.push({ field: 'name', message: p.detail || texts.taken });
    }
    return errors.map((e) => {
      const name = String(e.field || '');
      const message = String(e.message || 'Invalid value.');
      return Object.assign({ name, message }, resolveField(fields, name));
    });
  }

  /* The first of the controls in the page's order. */
  function firstInOrder(controls) {
    return controls.reduce((a, b) =>
      (a && !(b.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING) ? a : b), null);
  }

  function showFormErrors(form, box, fields, err, texts) {
    clearFormErrors(form, box);
    const p = err.problem || {};
    const items = fieldItems(err, fields, texts);
    for (const s of items) {
      if (s.control) fieldError(s.control, s.name, s.shown ? s.message : labelled(s.label, s.message));
    }
    const block = problemBlock(err);
    if (err.status === 422 || items.length) {
      block.querySelector('.problem-title').textContent = texts.notSaved || p.title || 'Invalid input';
    }
    if (items.length) block.appendChild(summaryList(items));
    replace(box, block);
    box.hidden = false;
    // The first bad field takes the focus (its message is its description);
    // without one, the summary does.
    const first = firstInOrder(items.map((s) => s.control).filter((c) => c && !c.disabled));
    if (first) {
      box.scrollIntoView({ block: 'nearest' });
      first.focus();
    } else {
      box.scrollIntoView({ block: 'start' });
      (box.hasAttribute('tabindex') ? box : block).focus({ preventScroll: true });
    }
    announce(block.querySelector('.problem-title').textContent);
  }

  /* The errors of a form's answers.  box: the form's summary (hidden until
   * needed).  fields: what the API's field names stand for (see
   * resolveField).  texts: {notSaved (the summary's title, e.g. "The reply
   * was not sent"), taken (a 409 without errors: the field `name`)}.
   * show(err) takes an ApiError or anything shaped like one
   * ({status, problem: {errors}}) — a form's own checks use it too. */
  function formErrors(form, box, fields, texts) {
    texts = texts || {};
    return {
      clear: () => clearFormErrors(form, box),
      show: (err) => showFormErrors(form, box, fields, err, texts),
    };
  }

  /* A problem made in the page, for a form's own checks before it posts:
   * errors: [{field, message}]. */
  function localProblem(errors) {
    return { status: 422, problem: { errors } };
  }

  // -------------------------------------------------------------- dialog

  let dialog = null;   // the confirmation dialog open, one at a time

  function closeDialog() {
    if (!dialog) return;
    if (dialog.open) dialog.close();
    dialog.remove();
    dialog = null;
  }

  /* Yes runs o.run() (a promise); when it resolves the dialog goes and
   * o.done(result) runs; when it fails, the error shows in the dialog. */
  function confirmYes(o, yes, no, errorSlot) {
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      yes.textContent = o.busy;
      try {
        const result = await o.run();
        if (!o.ctx.alive()) return;
        closeDialog();
        o.done(result);
      } catch (err) {
        if (!o.ctx.alive() || err.handled) return;
        yes.disabled = false;
        no.disabled = false;
        yes.textContent = o.yes;
        replace(errorSlot, problemBlock(err));
      }
    });
  }

  /* An "are you sure?" dialog. o: {ctx, title, text, yes (button text),
   * yesId, busy (button text while running), danger, run, done}.
   * Cancel and Escape close it (not while running) and give the focus back. */
  function confirmDialog(o) {
    closeDialog();
    const opener = document.activeElement;
    const errorSlot = h('div', { id: 'confirm-error' });
    const yes = h('button', { type: 'button', class: ['btn', o.danger ? 'btn-danger' : 'btn-primary'], id: o.yesId }, o.yes);
    const no = h('button', { type: 'button', class: 'btn btn-quiet', id: 'confirm-cancel' }, 'Cancel');
    const d = h('dialog', { class: 'dialog', id: 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
      h('h2', { id: 'confirm-title', text: o.title }),
      h('p', { id: 'confirm-text', text: o.text }),
      errorSlot,
      h('div', { class: 'dialog-actions' }, no, yes));
    dialog = d;
    onLeave(() => { if (dialog === d) closeDialog(); });
    function cancel() {
      closeDialog();
      if (opener && document.body.contains(opener)) opener.focus();
    }
    no.addEventListener('click', cancel);
    d.addEventListener('cancel', (ev) => { ev.preventDefault(); if (!yes.disabled) cancel(); });
    confirmYes(o, yes, no, errorSlot);
    document.body.appendChild(d);
    d.showModal();
    no.focus();
  }

  window.postdeskUi = Object.freeze({
    strong, problemBlock, breadcrumb, pageHeading, setTitle, focusHeading, loading,
    options, field, formErrors, localProblem, copyButton, confirmDialog,
  });
}());
