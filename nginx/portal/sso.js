/* postdesk portal — the Sign-in page (#/sign-in, admins): the settings of
 * "Sign in with Microsoft" (GET/PATCH /api/sso/settings, docs/sso.md) and
 * which agents are linked to a Microsoft account (GET /api/agents).  Also
 * window.postdeskSso.loginBlock(), the login page's button and the reason a
 * sign-in with Microsoft came back refused.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const { h, api, replace } = pd;

  /* What each ?sso_error= of the callback (cgi-bin/api_sso.c) means. */
  const REASONS = {
    state: 'That sign-in could not be used: it expired, was already used, or was started in another browser. Try again.',
    denied: 'Microsoft did not sign you in. Try again, or ask your administrator.',
    token: 'Microsoft did not accept the sign-in. Ask your administrator to check the Sign-in settings.',
    id_token: 'Microsoft’s answer could not be verified, so nobody was signed in. Try again; if it keeps happening, tell your administrator.',
    no_agent: 'Your Microsoft account is not linked to a postdesk agent. Ask your administrator.',
    off: 'Sign in with Microsoft is not set up.',
  };

  function ssoError() {
    const q = location.hash.split('?')[1] || '';
    const code = new URLSearchParams(q).get('sso_error');
    if (!code) return null;
    return REASONS[code] || 'Something went wrong while signing in with Microsoft. Try again.';
  }

  /* The login page's part: [error, button, divider] or [] when off. */
  async function loginBlock() {
    const error = ssoError();
    const box = error ? h('div', { class: 'flash flash-error', id: 'sso-error', role: 'alert', text: error }) : null;
    let on = { enabled: false, required: false };
    try {
      on = (await api('GET', '/api/sso', undefined, { allow401: true })).data;
    } catch (e) {
      // The password form still works.
    }
    if (!on.enabled) return [box];
    return [box,
      h('a', { class: 'btn btn-primary btn-block btn-microsoft', id: 'login-microsoft', href: '/api/sso/start' }, 'Sign in with Microsoft'),
      on.required ? h('p', { class: 'small muted', id: 'sso-required', text: 'Agents sign in with Microsoft. Only the break-glass administrator uses a password.' }) : null,
      h('p', { class: 'login-or', text: 'or with your postdesk password' })];
  }

  function check(id, name, checked, label, help) {
    const box = h('input', { id, name, type: 'checkbox', checked: !!checked, 'aria-describedby': id + '-help' });
    return {
      box,
      node: h('div', { class: 'field field-check', id: id + '-field' }, box,
        h('label', { htmlFor: id, text: label }),
        h('p', { class: 'help', id: id + '-help', text: help })),
    };
  }

  function controls(s, mailboxes, admins) {
    const sel = (id, name, list, value) => h('select', { id, name },
      list.map((o) => h('option', { value: o.id, selected: String(o.id) === String(value), text: o.name })));
    return {
      enabled: check('sso-enabled', 'enabled', s.enabled, 'Sign in with Microsoft',
        'Shows “Sign in with Microsoft” on the login page. Local passwords keep working unless required below.'),
      mailbox: sel('sso-mailbox', 'mailbox_id',
        [{ id: '', name: 'Its own app registration (below)' }].concat(mailboxes.map((m) => ({ id: m.id, name: 'The app of mailbox “' + m.name + '”' }))),
        s.mailbox_id || ''),
      tenant: h('input', { id: 'sso-tenant', name: 'tenant_id', type: 'text', value: s.tenant_id || '', spellcheck: 'false', autocomplete: 'off' }),
      client: h('input', { id: 'sso-client', name: 'client_id', type: 'text', value: s.client_id || '', spellcheck: 'false', autocomplete: 'off' }),
      secret: h('input', { id: 'sso-secret', name: 'secret', type: 'password', autocomplete: 'new-password', placeholder: s.secret_set ? 'Stored — leave empty to keep it' : '' }),
      match: check('sso-match', 'allow_address_match', s.allow_address_match, 'Link agents by address on their first sign-in',
        'An agent whose username is the Microsoft account’s address (e.g. alice@contoso.com) is linked to that account the first time it signs in. Off: only accounts already linked sign in.'),
      require: check('sso-require', 'require_microsoft', s.require_microsoft, 'Require Microsoft sign-in',
        'Password sign-in is refused to everyone but the break-glass administrator below.'),
      breakGlass: sel('sso-break-glass', 'break_glass_agent_id',
        [{ id: '', name: 'None' }].concat(admins.map((a) => ({ id: a.id, name: a.name + ' (' + a.username + ')' }))),
        s.break_glass_agent_id || ''),
    };
  }

  function payload(c) {
    const id = (v) => (v === '' ? null : Number(v));
    const p = {
      enabled: c.enabled.box.checked, mailbox_id: id(c.mailbox.value),
      tenant_id: c.tenant.value.trim(), client_id: c.client.value.trim(),
      allow_address_match: c.match.box.checked, require_microsoft: c.require.box.checked,
      break_glass_agent_id: id(c.breakGlass.value),
    };
    if (c.secret.value) p.secret = c.secret.value;
    return p;
  }

  function redirectRow(uri) {
    const code = h('code', { class: 'redirect-uri', id: 'sso-redirect-uri', text: uri });
    return h('div', { class: 'field' },
      h('p', { class: 'small', text: 'Add this redirect URI to the app registration in Azure (Authentication › Web):' }),
      h('div', { class: 'copy-row' }, code, pd.copyButton(() => ({ text: uri, node: code }), 'Copy redirect URI')));
  }

  function settingsForm(ctx, s, mailboxes, admins) {
    const c = controls(s, mailboxes, admins);
    const errorBox = h('div', { id: 'sso-form-error', 'aria-live': 'assertive' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'sso-save' }, 'Save');
    const own = h('div', { id: 'sso-own-app' },
      pd.field('sso-tenant', 'Directory (tenant) ID', c.tenant, 'A GUID, from the app’s Overview page.'),
      pd.field('sso-client', 'Application (client) ID', c.client, 'A GUID, from the app’s Overview page.'),
      pd.field('sso-secret', 'Client secret value', c.secret, 'The Value of a client secret (not its Secret ID).'));
    const showOwn = () => { own.hidden = c.mailbox.value !== ''; };
    c.mailbox.addEventListener('change', showOwn);
    showOwn();
    const form = h('form', { class: 'card panel form', id: 'sso-form', novalidate: true, 'aria-labelledby': 'sso-form-title' },
      h('h2', { id: 'sso-form-title', text: 'Sign in with Microsoft' }),
      c.enabled.node,
      pd.field('sso-mailbox', 'App registration', c.mailbox, 'Use a mailbox’s app, or one of its own. It needs the delegated permissions openid, profile and email.'),
      own, redirectRow(s.redirect_uri), c.match.node, c.require.node,
      pd.field('sso-break-glass', 'Break-glass administrator', c.breakGlass, 'Still signs in with a password when Microsoft sign-in is required — keep that password safe.'),
      errorBox, h('div', { class: 'form-actions' }, save));
    const errors = pd.formErrors(form, errorBox, {
      enabled: 'sso-enabled', mailbox_id: 'sso-mailbox', tenant_id: 'sso-tenant', client_id: 'sso-client',
      secret: 'sso-secret', allow_address_match: 'sso-match', require_microsoft: 'sso-require',
      break_glass_agent_id: 'sso-break-glass',
    }, { notSaved: 'Not saved' });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      errors.clear();
      save.disabled = true;
      try {
        await api('PATCH', '/api/sso/settings', payload(c));
        if (!ctx.alive()) return;
        pd.flash('ok', 'Sign-in settings saved.');
        pd.go('#/sign-in');
      } catch (err) {
        if (ctx.alive()) errors.show(err);
      } finally {
        save.disabled = false;
      }
    });
    return form;
  }

  function agentsTable(agents) {
    return h('section', { class: 'card panel', id: 'sso-agents', 'aria-labelledby': 'sso-agents-title' },
      h('h2', { id: 'sso-agents-title', text: 'Agents' }),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table', id: 'sso-agent-table' },
          h('caption', { class: 'visually-hidden', text: 'Agents and whether each is linked to a Microsoft account' }),
          h('thead', null, h('tr', null, ['Name', 'Username', 'Role', 'Microsoft account'].map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', null, agents.map((a) => h('tr', { dataset: { agent: a.username } },
            h('td', { text: a.name }), h('td', { text: a.username }), h('td', { text: a.role }),
            h('td', { class: a.microsoft ? 'sso-linked' : 'muted', text: a.microsoft ? 'Linked' : 'Not linked' })))))));
  }

  async function view(ctx, main) {
    pd.setTitle('Sign-in');
    replace(main, pd.pageHeading('Sign-in'), pd.takeFlash(), pd.loading('Loading sign-in settings…'));
    pd.focusHeading();
    try {
      const [s, mb, ag] = await Promise.all([api('GET', '/api/sso/settings'), api('GET', '/api/mailboxes'), api('GET', '/api/agents')]);
      if (!ctx.alive()) return;
      const agents = ag.data.items || [];
      main.lastChild.remove();
      main.appendChild(settingsForm(ctx, s.data, mb.data.items || [], agents.filter((a) => a.role === 'admin')));
      main.appendChild(agentsTable(agents));
    } catch (err) {
      if (ctx.alive()) replace(main, pd.pageHeading('Sign-in'), pd.problemBlock(err));
    }
  }

  pd.page({
    name: 'sign-in',
    admin: true,
    match: (parts) => (parts[0] === 'sign-in' && parts.length === 1 ? {} : null),
    nav: { href: '#/sign-in', id: 'nav-sign-in', text: 'Sign-in', config: true },
    view,
  });

  window.postdeskSso = Object.freeze({ loginBlock });
}());
