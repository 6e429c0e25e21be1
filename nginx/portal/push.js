/* postdesk portal — the push line of the mailbox page's Connection panel
 * (docs/push.md): whether Microsoft Graph notifies new mail (active until
 * when, last notification), or why the mailbox is polled instead (shared,
 * push off, portal not public HTTPS, Microsoft refused).  connect.js calls
 * window.postdeskPush.block(mb). */
(function () {
  'use strict';

  const pd = window.postdesk;
  const { h, strong } = pd;
  const { time } = window.postdeskFmt;

  const TITLE = {
    active: 'Push: active',
    pending: 'Push: starting',
    renew: 'Push: renewing',
    recreate: 'Push: being made again',
    failed: 'Push: failed',
    off: 'Push: off',
  };

  function block(m) {
    const p = m && m.push && typeof m.push === 'object' ? m.push : null;
    if (!p || typeof p.state !== 'string') return null;
    const state = TITLE[p.state] ? p.state : 'off';
    const lines = [];
    if (state === 'active') {
      lines.push(h('span', null, 'New mail becomes a ticket within seconds; still polled now and then, in case a notification is lost.',
        p.expires_at ? [' Subscription renewed daily; valid until ', time(p.expires_at), '.'] : ''));
      if (p.last_notification_at) lines.push(h('span', { class: 'muted' }, ' Last notification ', time(p.last_notification_at), '.'));
    } else if (state === 'pending') {
      lines.push('Polled; the next scan asks Microsoft to notify new mail.');
    } else {
      lines.push('Polled every few seconds' + (p.detail ? ': ' : '.'));
      if (p.detail) lines.push(h('span', { id: 'mb-push-detail', text: String(p.detail) }));
    }
    return h('p', { class: state === 'failed' ? 'small warning' : 'small', id: 'mb-push', dataset: { state } },
      strong(TITLE[state]), ' — ', lines);
  }

  window.postdeskPush = Object.freeze({ block });
})();
