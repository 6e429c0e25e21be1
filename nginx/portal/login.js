/* postdesk portal — the Sign in page (#/login), a public page: drawn
 * without the frame, before there is a session.  After too many failed
 * attempts the server answers 429 with Retry-After; the page counts it down
 * and keeps the button disabled until then.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const { h, api, replace } = pd;

  /* Counts the 429's Retry-After down in the error box's title; returns
   * what stops it (and enables the button again). */
  function countdown(submit, box, seconds) {
    let s = seconds;
    let timer = null;
    function stop() {
      if (timer) { window.clearInterval(timer); timer = null; }
      submit.disabled = false;
    }
    if (s === null || s <= 0) return stop;
    const titleEl = box.querySelector('.problem-title');
    submit.disabled = true;
    timer = window.setInterval(() => {
      s -= 1;
      if (s <= 0) {
        stop();
        titleEl.textContent = 'You can try again now.';
      } else {
        titleEl.textContent = 'Too many attempts, try again in ' + s + ' s';
      }
    }, 1000);
    return stop;
  }

  function wrongPassword(err) {
    const p = err.problem || {};
    return pd.problemBlock({
      status: 401,
      problem: {
        title: p.title && p.title !== 'Unauthorized' ? p.title : 'Wrong username or password',
        detail: p.detail || '',
        request_id: p.request_id,
      },
    });
  }

  function loginCard(notice, form) {
    return h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' },
        h('img', { class: 'brand-logo-lg', src: 'favicon.svg', alt: '', width: '40', height: '40' }),
        h('span', { class: 'brand-name', text: 'postdesk' })),
      h('h1', { class: 'login-title', id: 'page-title', tabindex: '-1', text: 'Sign in' }),
      h('p', { class: 'muted', text: 'Microsoft 365 mailboxes in, helpdesk tickets out.' }),
      notice ? h('div', { class: 'flash flash-info', id: 'login-notice', role: 'status', text: notice }) : null,
      form);
  }

  function loginForm(ctx) {
    const errorBox = h('div', { id: 'login-error', class: 'login-error', 'aria-live': 'assertive' });
    const user = h('input', { id: 'login-username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
    const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { id: 'login-submit', type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
    let stopCountdown = () => { submit.disabled = false; };
    pd.onLeave(() => stopCountdown());

    function showError(err) {
      stopCountdown();
      errorBox.hidden = false; // fieldErrors.clear() hid it
      if (err.status === 429) {
        const box = pd.problemBlock(err);
        replace(errorBox, box);
        stopCountdown = countdown(submit, box, pd.retryAfterSeconds(err.headers));
      } else {
        replace(errorBox, err.status === 401 ? wrongPassword(err) : pd.problemBlock(err));
      }
    }

    async function onSubmit(ev) {
      ev.preventDefault();
      if (submit.disabled) return;
      fieldErrors.clear();
      if (!user.value.trim() || !pass.value) {
        fieldErrors.show(pd.localProblem([
          user.value.trim() ? null : { field: 'username', message: 'Enter your username.' },
          pass.value ? null : { field: 'password', message: 'Enter your password.' }].filter(Boolean)));
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      try {
        const r = await api('POST', '/api/session', { username: user.value.trim(), password: pass.value }, { allow401: true });
        if (!ctx.alive()) return;
        pd.signIn(r.data);
      } catch (err) {
        if (!ctx.alive()) return;
        submit.disabled = false;
        submit.textContent = 'Sign in';
        pass.value = '';
        if (err.status === 422) { fieldErrors.show(err); return; }
        showError(err);
        pass.focus();
      }
    }

    const form = h('form', { class: 'login-form', id: 'login-form', novalidate: true, onsubmit: onSubmit },
      h('div', { class: 'field' },
        h('label', { htmlFor: 'login-username', text: 'Username' }), user),
      h('div', { class: 'field' },
        h('label', { htmlFor: 'login-password', text: 'Password' }), pass),
      errorBox,
      submit);
    const fieldErrors = pd.formErrors(form, errorBox,
      { username: 'login-username', password: 'login-password' }, { notSaved: 'Not signed in' });
    return { form, user };
  }

  function viewLogin(ctx, app) {
    if (pd.agent()) { location.replace(pd.home()); return; }
    pd.setTitle('Sign in');
    const notice = pd.takeLoginNotice();
    const { form, user } = loginForm(ctx);
    const sso = h('div', { id: 'sso-slot' });
    replace(app, h('main', { class: 'login-page', id: 'main', tabindex: '-1' }, loginCard(notice, [sso, form])));
    user.focus();
    // Sign in with Microsoft (sso.js): its button, or why it came back refused.
    window.postdeskSso.loginBlock().then((nodes) => {
      if (ctx.alive()) replace(sso, nodes);
    });
  }

  pd.page({
    name: 'login',
    public: true,
    match: (parts) => (parts[0] === 'login' && parts.length === 1 ? {} : null),
    view: viewLogin,
  });
}());
