/* postdesk portal — the DOM helpers every script builds on, as
 * window.postdeskDom, and the lifetime of the page on screen (onLeave).
 *
 * Rules every portal script keeps (the page runs under a strict
 * Content-Security-Policy):
 *  - DOM is built with createElement/textContent only (see h()); never
 *    innerHTML: every string shown may come from mail or from users.
 *  - No inline styles: presentation is by class names and the `hidden` property.
 *  - Every non-GET request carries X-CSRF-Token and a JSON content type (api.js).
 *
 * Loaded first; app.js explains the order of the scripts.
 */
'use strict';

(function () {
  // Set as DOM properties; any other key becomes an attribute.
  const PROPERTIES = ['value', 'checked', 'disabled', 'hidden', 'selected', 'type', 'name', 'id', 'href', 'htmlFor'];

  function setProp(node, key, v) {
    if (key === 'class') {
      node.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    } else if (key === 'text') {
      node.textContent = String(v);
    } else if (key === 'dataset') {
      for (const d of Object.keys(v)) node.dataset[d] = String(v[d]);
    } else if (key.startsWith('on') && typeof v === 'function') {
      node.addEventListener(key.slice(2), v);
    } else if (PROPERTIES.includes(key)) {
      node[key] = v;
    } else if (key === 'style') {
      throw new Error('inline styles are not allowed; use a class');
    } else {
      node.setAttribute(key, v === true ? '' : String(v));
    }
  }

  /* h('div', {class: 'x', text: 'hi', onclick: fn}, child, [children], 'text')
   * Properties go through the DOM API; strings become text nodes. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const key of Object.keys(props)) {
        const v = props[key];
        if (v === null || v === undefined || v === false) continue;
        setProp(node, key, v);
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(node, c);
      else if (c instanceof Node) node.appendChild(c);
      else node.appendChild(document.createTextNode(String(c)));
    }
  }

  function $(id) { return document.getElementById(id); }

  /* Like node.replaceChildren(), but skips null/false and flattens arrays. */
  function replace(node, ...children) {
    node.replaceChildren();
    append(node, children);
    return node;
  }

  function announce(text) {
    const live = $('live');
    if (!live) return;
    live.textContent = '';
    // A fresh text node makes screen readers announce repeated messages too.
    window.setTimeout(() => { live.textContent = text; }, 30);
  }

  // Timers, dialogs and the like of the page on screen, ended when it goes.
  let cleanups = [];

  function onLeave(fn) { cleanups.push(fn); }

  function leave() {
    const list = cleanups;
    cleanups = [];
    for (const fn of list) {
      try { fn(); } catch (e) { /* ignore */ }
    }
  }

  window.postdeskDom = Object.freeze({ h, append, $, replace, announce, onLeave, leave });
}());
