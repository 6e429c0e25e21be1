/* postdesk portal — the mailbox form of Mailbox Setup (#/mailboxes/new,
 * #/mailboxes/ID), as window.postdeskMailboxForm.view (mailboxes.js routes
 * to it).  Beside the form: the Connection panel (connect.js), "Register
 * these in Azure" (azure_setup.js) and, when editing, Delete.
 *
 * Editing PATCHes only the fields changed, with If-Match: the version the
 * form was opened at (a 412 says "changed elsewhere").  The secret is
 * write-only: empty on edit keeps it.  Creating a mailbox lands on its own
 * page, where "Next: Authorize Application" (connect.js) is the next step.
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const M = window.postdeskMailbox;
  const { h, api, replace, strong } = pd;

  /* The clouds are the server's (GET /api/azure-setup, from the one table in
   * lib/model/mailbox_types.c); the page itself knows only the default, so a
   * form drawn without the setup facts still offers it. */
  const DEFAULT_CLOUD = { id: 'global', name: 'Global (Microsoft 365, GCC)' };

  const PROCESSED_ACTIONS = [
    { id: 'move_to_deleted_items', name: 'Move to Deleted Items' },
    { id: 'move_to_folder', name: 'Move to folder…' },
    { id: 'mark_read', name: 'Mark as read' },
  ];

  const FIRST_SCAN = [
    { id: 'new_only', name: 'Only mail arriving from now on' },
    { id: 'all', name: 'Everything already in the Inbox' },
  ];

  // API field name -> form control id.
  const FIELD_IDS = {
    name: 'mb-name',
    type: 'mb-type',
    client_id: 'mb-client-id',
    tenant_id: 'mb-tenant-id',
    secret: 'mb-secret',
    secret_expires_on: 'mb-secret-expires',
    credential_type: 'mb-credential-secret',
    shared_address: 'mb-shared-address',
    cloud: 'mb-cloud',
    processed_action: 'mb-processed-action',
    processed_folder: 'mb-processed-folder',
    quarantine_folder: 'mb-quarantine-folder',
    first_scan: 'mb-first-scan',
    ack_enabled: 'mb-ack-enabled',
    ack_subject: 'mb-ack-subject',
    ack_body: 'mb-ack-body',
    ack_per_hour: 'mb-ack-per-hour',
  };

  const GUID_RE = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;

  // ---------------------------------------------------------------- page

  /* The mailbox (null for a new one) with its ETag, and the Azure set-up;
   * a failed set-up is shown in its panel, not instead of the form. */
  async function load(id) {
    let setupError = null;
    const [setup, m] = await Promise.all([
      pd.cached('/api/azure-setup').catch((e) => { if (e.handled) throw e; setupError = e; return null; }),
      id !== null ? api('GET', '/api/mailboxes/' + encodeURIComponent(id)) : Promise.resolve(null),
    ]);
    const mailbox = m ? m.data : null;
    // The version the form edits: sent as If-Match (a 412 says "changed elsewhere").
    if (mailbox) mailbox._etag = m.headers.get('ETag');
    return { setup, mailbox, setupError };
  }

  function missing() {
    return h('div', { class: 'notice', id: 'mailbox-missing' },
      h('p', { class: 'notice-title', text: 'This mailbox does not exist' }),
      h('p', null, 'It may have been deleted. ', h('a', { href: '#/mailboxes', text: 'Back to Mailbox Setup' }), '.'));
  }

  /* The heading, title and last crumb say the mailbox's name. */
  function named(main, mailbox) {
    const t = pd.$('page-title');
    if (t) t.textContent = mailbox.name;
    pd.setTitle(mailbox.name);
    const last = main.querySelector('.crumbs li:last-child span');
    if (last) last.textContent = mailbox.name;
  }

  async function view(ctx, main, id) {
    const editing = id !== null;
    const title = editing ? 'Edit mailbox' : 'New mailbox';
    pd.setTitle(title);
    replace(main, pd.breadcrumb([{ text: 'Configuration' }, { text: 'Email' },
      { text: 'Mailbox Setup', href: '#/mailboxes' }, { text: title }]), pd.pageHeading(title), pd.takeFlash());
    pd.focusHeading();
    if (pd.agent().role !== 'admin') {
      M.needsAdmin(main, 'Adding or changing a mailbox is an admin task.');
      return;
    }
    const slot = h('div', null, pd.loading());
    main.appendChild(slot);
    let got;
    try {
      got = await load(id);
    } catch (err) {
      if (!ctx.alive() || err.handled) return;
      replace(slot, err.status === 404 ? missing() : pd.problemBlock(err, { id: 'load-error' }));
      return;
    }
    if (!ctx.alive()) return;
    if (editing && got.mailbox) named(main, got.mailbox);
    replace(slot, buildForm(ctx, got.mailbox, got.setup, got.setupError));
    const first = pd.$('mb-name');
    if (first && !editing) first.focus();
  }

  // ------------------------------------------------------------ controls

  function textInput(id, name, props) {
    return h('input', Object.assign({ id, name, type: 'text', autocomplete: 'off' }, props));
  }

  function select(id, name, list, selected) {
    return h('select', { id, name }, pd.options(list, selected));
  }

  /* One control per API field, showing the mailbox (or the defaults). */
  function makeControls(mb, editing) {
    const guid = { spellcheck: 'false', class: 'mono' };
    const c = {
      name: textInput('mb-name', 'name', { maxlength: '100', value: mb.name || '', placeholder: 'e.g. Support' }),
      type: select('mb-type', 'type', M.MAILBOX_TYPES, mb.type || 'office365'),
      client_id: textInput('mb-client-id', 'client_id', Object.assign({ value: mb.client_id || '', placeholder: '00000000-0000-0000-0000-000000000000' }, guid)),
      tenant_id: textInput('mb-tenant-id', 'tenant_id', Object.assign({ value: mb.tenant_id || '', placeholder: 'GUID or contoso.onmicrosoft.com' }, guid)),
      secret: h('input', Object.assign({ id: 'mb-secret', name: 'secret', type: 'password', autocomplete: 'new-password', maxlength: '255', value: '',
        placeholder: editing && mb.secret_set ? 'Leave empty to keep the current secret' : 'Paste the secret’s Value' }, guid)),
      secret_expires_on: h('input', { id: 'mb-secret-expires', name: 'secret_expires_on', type: 'date', value: mb.secret_expires_on || '' }),
      shared_address: h('input', { id: 'mb-shared-address', name: 'shared_address', type: 'email', autocomplete: 'off', spellcheck: 'false', value: mb.shared_address || '', placeholder: 'help@contoso.com' }),
      cloud: select('mb-cloud', 'cloud', [DEFAULT_CLOUD], mb.cloud || 'global'),
      processed_action: select('mb-processed-action', 'processed_action', PROCESSED_ACTIONS, mb.processed_action || 'move_to_deleted_items'),
      processed_folder: textInput('mb-processed-folder', 'processed_folder', { maxlength: '255', value: mb.processed_folder || '', placeholder: 'e.g. Processed' }),
      quarantine_folder: textInput('mb-quarantine-folder', 'quarantine_folder', { maxlength: '255', value: mb.quarantine_folder || 'Postdesk quarantine' }),
      first_scan: select('mb-first-scan', 'first_scan', FIRST_SCAN, mb.first_scan || 'new_only'),
      ack_enabled: h('input', { id: 'mb-ack-enabled', name: 'ack_enabled', type: 'checkbox', checked: mb.ack_enabled === undefined ? true : !!mb.ack_enabled }),
      ack_subject: textInput('mb-ack-subject', 'ack_subject', { maxlength: '255', value: mb.ack_subject || '[#{ticket}] {subject}' }),
      ack_body: h('textarea', { id: 'mb-ack-body', name: 'ack_body', rows: '6', maxlength: '5000', placeholder: 'Leave empty for the default text' }),
      ack_per_hour: h('input', { id: 'mb-ack-per-hour', name: 'ack_per_hour', type: 'number', min: '1', max: '1000', step: '1', value: String(mb.ack_per_hour || 5) }),
    };
    c.ack_body.value = mb.ack_body || '';
    return c;
  }

  /* The clouds the server knows; the mailbox's own cloud stays an option even
   * when the setup facts did not load, so saving never changes it. */
  function addServerClouds(select, setup, mb) {
    const known = [DEFAULT_CLOUD.id];
    const add = (id, name) => {
      if (!id || known.includes(id)) return;
      known.push(id);
      select.appendChild(h('option', { value: id, selected: id === mb.cloud, text: name || id }));
    };
    if (setup && Array.isArray(setup.clouds)) {
      for (const k of setup.clouds) if (k) add(k.id, k.name);
    }
    add(mb.cloud, mb.cloud);
  }

  /* node shows while shown() holds, checked again on each of the events. */
  function showWhen(node, control, events, shown) {
    const sync = () => { node.hidden = !shown(); };
    for (const e of events) control.addEventListener(e, sync);
    sync();
    return node;
  }

  // ------------------------------------------------------------- secret

  /* Microsoft's codes for a secret it refused: wrong value, expired. */
  const SECRET_REFUSED = {
    AADSTS7000215: { text: 'Secret refused by Microsoft', extra: ' — Microsoft says this is not a valid secret Value (AADSTS7000215): paste the secret’s Value, not its Secret ID, or create a new secret in Azure.' },
    AADSTS7000222: { text: 'Secret expired', extra: ' — Microsoft says the secret has expired (AADSTS7000222): create a new secret in Azure and paste its Value here.' },
  };

  /* The mailbox's last error is Microsoft refusing the stored secret: the
   * error came after the settings were last saved (a new secret saved since
   * has not been tried yet). */
  function secretRefused(mb) {
    const e = mb.last_error && typeof mb.last_error === 'object' ? mb.last_error : null;
    const r = e && SECRET_REFUSED[e.code];
    if (!r) return null;
    if (e.at && mb.updated_at && String(e.at) < String(mb.updated_at)) return null;
    return r;
  }

  /* What is stored: the last four characters and the expiry. */
  function secretStatus(mb) {
    let t = 'Secret set, ends …' + (mb.secret_last4 || '????');
    t += mb.secret_expires_on ? ', expires ' + mb.secret_expires_on : ', no expiry date recorded';
    const refused = secretRefused(mb);
    const d = M.daysUntil(mb.secret_expires_on);
    const expired = d !== null && d < 0;
    const soon = !refused && M.expiringSoon(mb, d);
    if (refused) t = refused.text + ', ends …' + (mb.secret_last4 || '????');
    return h('p', { class: ['secret-status', refused || expired ? 'secret-expired' : (soon ? 'secret-soon' : '')], id: 'mb-secret-status',
      dataset: { state: refused ? 'refused' : (expired ? 'expired' : (soon ? 'soon' : 'set')) } },
    h('span', { class: 'secret-status-text', text: t }),
    refused ? h('span', { class: 'secret-status-extra', text: refused.extra }) : null,
    !refused && expired ? h('span', { class: 'secret-status-extra', text: ' — expired: create a new secret in Azure and paste its Value here.' }) : null,
    soon ? h('span', { class: 'secret-status-extra', text: ' — expires soon: create the next secret in Azure now.' }) : null);
  }

  /* A hint under control, shown while wrong(value) holds, checked on event. */
  function hint(id, control, event, wrong, text) {
    const p = h('p', { class: 'field-hint', id, hidden: true, role: 'status' });
    control.addEventListener(event, () => {
      const v = control.value.trim();
      p.hidden = !(v && wrong(v));
      p.textContent = p.hidden ? '' : text;
    });
    return p;
  }

  function showSecretButton(secret) {
    const btn = h('button', { type: 'button', class: 'btn btn-small btn-quiet', id: 'mb-secret-toggle', 'aria-controls': 'mb-secret', 'aria-pressed': 'false' }, 'Show');
    btn.addEventListener('click', () => {
      const shown = secret.type === 'text';
      secret.type = shown ? 'password' : 'text';
      btn.textContent = shown ? 'Show' : 'Hide';
      btn.setAttribute('aria-pressed', shown ? 'false' : 'true');
    });
    return btn;
  }

  /* The parts of the form beyond its controls: hints, notes and warnings. */
  function makeParts(c, mb, editing) {
    return {
      secretStatus: editing && mb.secret_set ? secretStatus(mb) : null,
      secretHint: hint('mb-secret-hint', c.secret, 'input', (v) => GUID_RE.test(v),
        'This looks like the Secret ID (a GUID). In Azure, copy the secret’s Value column instead. If the Value is no longer shown, create a new client secret.'),
      clientHint: hint('mb-client-id-hint', c.client_id, 'blur', (v) => !GUID_RE.test(v),
        'An Application (client) ID looks like 0b5e1c2d-…: 32 hexadecimal digits in five groups.'),
      showSecret: showSecretButton(c.secret),
      sharedNote: sharedNote(),
      firstScanWarning: showWhen(h('div', { class: 'warning', id: 'mb-first-scan-warning', role: 'note' },
        h('strong', { text: 'Every message in the Inbox becomes a ticket. ' }),
        'Make sure the Inbox is empty, or holds only mail you want as tickets, before you authorize the mailbox.'),
      c.first_scan, ['change'], () => c.first_scan.value === 'all'),
      reauthWarning: reauthWarning(c, mb, editing),
    };
  }

  /* Shown when a shared address is filled in. */
  function sharedNote() {
    return h('div', { class: 'callout', id: 'mb-shared-note' },
      h('p', { class: 'callout-title', text: 'Shared mailbox checklist' }),
      h('ul', null,
        h('li', null, 'The user who signs in when you authorize must be a ', strong('delegate'), ' of this shared mailbox with ',
          strong('Read and manage'), ' (Full Access) and ', strong('Send as'), ' permissions.'),
        h('li', null, 'Set these in the ', strong('Microsoft 365 admin center'), ' (Teams & groups › Shared mailboxes › Manage mailbox permissions), not in the Exchange admin center.'),
        h('li', null, 'Grant the two ', strong('.Shared'), ' permissions in Azure as well (see “Register these in Azure”).'),
        h('li', null, 'Until this is right, postdesk could read the signing-in user’s own Inbox instead — empty that Inbox first if in doubt.')));
  }

  /* Changing how a connected mailbox signs in means authorizing again. */
  function reauthWarning(c, mb, editing) {
    const warning = h('div', { class: 'warning', id: 'mb-reauth-warning', role: 'note', hidden: true },
      h('strong', { text: 'Authorize again after saving. ' }),
      'Changing the Client ID, Tenant ID, secret or shared mailbox of a connected mailbox disconnects it until it is authorized again.');
    if (!editing || mb.status !== 'connected') return warning;
    const sync = () => {
      warning.hidden = !(c.secret.value !== ''
        || c.client_id.value.trim() !== (mb.client_id || '')
        || c.tenant_id.value.trim() !== (mb.tenant_id || '')
        || c.shared_address.value.trim().toLowerCase() !== (mb.shared_address || '').toLowerCase());
    };
    for (const x of [c.client_id, c.tenant_id, c.secret, c.shared_address]) x.addEventListener('input', sync);
    return warning;
  }

  // ----------------------------------------------------------- fieldsets

  function mailboxFieldset(c) {
    return h('fieldset', { class: 'card' },
      h('legend', { text: 'Mailbox' }),
      pd.field('mb-name', 'Name', c.name, 'A name for agents, e.g. Support or Billing. Must be unique.', { required: true }),
      pd.field('mb-type', 'Connection type', c.type, 'Office 365/Azure: Microsoft 365 mail through Microsoft Graph, polled by the scanner (scan_interval in postdesk.conf, 5 s by default).'));
  }

  function secretField(c, parts, mb, editing) {
    const kept = editing && mb.secret_set;
    return pd.field('mb-secret', 'Client secret', c.secret,
      h('span', null, 'Paste the secret’s ', strong('Value'), ', not the Secret ID. Find it under Certificates & secrets › Client secrets; Azure shows the Value only once, right after you create the secret.',
        kept ? ' Leave this empty to keep the current secret.' : ''),
      {
        required: !kept,
        before: parts.secretStatus,
        after: h('div', { class: 'inline-actions' }, parts.showSecret, parts.secretHint),
        extraDescribedBy: [parts.secretStatus ? 'mb-secret-status' : null, 'mb-secret-hint'].filter(Boolean).join(' '),
      });
  }

  /* Client secret or certificate (mailbox_cert.js): the secret's fields
   * show only for a secret.  A new mailbox on a certificate is created
   * without a secret and gets its certificate on its own page. */
  function credentialChoice(c, mb, editing) {
    const cert = mb.credential_type === 'certificate';
    const radio = (id, value, checked, label) => h('div', { class: 'field-radio' },
      h('input', { id, name: 'credential_type', type: 'radio', value, checked }),
      h('label', { htmlFor: id, text: label }));
    c.credential_secret = null;
    const group = h('div', { class: 'field credential-choice', id: 'mb-credential-field', role: 'radiogroup',
      'aria-labelledby': 'mb-credential-label', 'aria-describedby': 'mb-credential-help' },
    h('p', { class: 'field-label', id: 'mb-credential-label', text: 'Credential' }),
    radio('mb-credential-secret', 'secret', !cert, 'Client secret'),
    radio('mb-credential-certificate', 'certificate', cert, 'Certificate'),
    h('p', { class: 'help', id: 'mb-credential-help', text: editing
      ? 'A certificate is generated or uploaded in the Certificate panel; choosing Client secret here and saving a secret forgets the certificate.'
      : 'How the app proves itself to Microsoft. With Certificate, postdesk makes a key pair after you create the mailbox; you upload its .cer in Azure (Certificates & secrets) instead of pasting a secret.' }));
    c.credential_secret = group.querySelector('#mb-credential-secret');
    return group;
  }

  function usesSecret(c) {
    return !c.credential_secret || c.credential_secret.checked;
  }

  function azureFieldset(c, parts, mb, editing) {
    const choice = credentialChoice(c, mb, editing);
    const secretOnly = (node) => showWhen(node, choice, ['change'], () => usesSecret(c));
    return h('fieldset', { class: 'card' },
      h('legend', { text: 'Azure app registration' }),
      h('p', { class: 'legend-help', text: 'From the app you registered in Azure (Microsoft Entra ID › App registrations). “Register these in Azure” lists what that app needs.' }),
      pd.field('mb-client-id', 'Client ID', c.client_id,
        h('span', null, 'The app’s ', strong('Application (client) ID'), ', on its Overview page in Azure.'),
        { required: true, after: parts.clientHint, extraDescribedBy: 'mb-client-id-hint' }),
      pd.field('mb-tenant-id', 'Tenant ID', c.tenant_id,
        h('span', null, 'The ', strong('Directory (tenant) ID'), ', on the same Overview page. Your domain (contoso.onmicrosoft.com) works too.'),
        { required: true }),
      choice,
      secretOnly(secretField(c, parts, mb, editing)),
      secretOnly(pd.field('mb-secret-expires', 'Secret expires on', c.secret_expires_on,
        'The expiry you chose when creating the secret. Renew it in Azure before then and paste the new Value here.',
        { optional: true })),
      pd.field('mb-cloud', 'Microsoft cloud', c.cloud,
        'Where the tenant lives. Almost every tenant, GCC included, is Global.'));
  }

  function sharedFieldset(c, parts) {
    return h('fieldset', { class: 'card' },
      h('legend', { text: 'Shared mailbox' }),
      pd.field('mb-shared-address', 'Shared mailbox address', c.shared_address,
        'Only for a shared mailbox: its full address. Leave empty for a licensed mailbox (the one that signs in).',
        { optional: true, after: parts.sharedNote, extraDescribedBy: 'mb-shared-note' }));
  }

  /* Acknowledgement settings show only while acknowledgements are on. */
  function ackFields(c) {
    const settings = h('div', { class: 'ack-settings', id: 'mb-ack-settings' },
      pd.field('mb-ack-subject', 'Acknowledgement subject', c.ack_subject,
        '{ticket} becomes the ticket number, {subject} the subject of the mail. Without {ticket} the ticket tag ([#123]) is put in front anyway.'),
      pd.field('mb-ack-body', 'Acknowledgement text', c.ack_body,
        'Plain text with {ticket} and {subject}; up to 5000 characters. Empty: the default text.',
        { optional: true }),
      pd.field('mb-ack-per-hour', 'At most per sender and hour', c.ack_per_hour,
        'More mail from one sender within an hour gets no acknowledgement; the incoming email log says why. This is what stops a mail loop.'));
    const check = h('div', { class: 'field field-check', id: 'mb-ack-enabled-field' },
      c.ack_enabled,
      h('label', { htmlFor: 'mb-ack-enabled', text: 'Send an acknowledgement for new tickets' }),
      h('p', { class: 'help', id: 'mb-ack-enabled-help', text: 'A short reply to the sender with the ticket number. Auto-replies, mailing lists and mail from other connected mailboxes never get one.' }));
    c.ack_enabled.setAttribute('aria-describedby', 'mb-ack-enabled-help');
    return [check, showWhen(settings, c.ack_enabled, ['change'], () => c.ack_enabled.checked)];
  }

  function processingFieldset(c, parts) {
    // The folder only with move_to_folder.
    const folder = showWhen(pd.field('mb-processed-folder', 'Folder name', c.processed_folder,
      'A folder of this mailbox (created if missing). Processed mail is moved there.', { required: true }),
    c.processed_action, ['change'], () => c.processed_action.value === 'move_to_folder');
    return h('fieldset', { class: 'card' },
      h('legend', { text: 'Processing' }),
      pd.field('mb-processed-action', 'After a message becomes a ticket', c.processed_action,
        'Move to Deleted Items is the usual choice: to process a message again, move it back to the Inbox.'),
      folder,
      pd.field('mb-quarantine-folder', 'Quarantine folder', c.quarantine_folder,
        'Mail that fails 5 times is moved here, next to the Inbox, so it never blocks the mailbox; Retry in the incoming email log brings it back.',
        { required: true }),
      pd.field('mb-first-scan', 'First scan', c.first_scan,
        'Which mail the first scan after authorizing picks up.',
        { after: parts.firstScanWarning, extraDescribedBy: 'mb-first-scan-warning' }),
      ackFields(c));
  }

  // -------------------------------------------------------------- submit

  function sameValue(a, b) {
    const norm = (v) => (v === null || v === undefined ? '' : v);
    return norm(a) === norm(b);
  }

  function ackPayload(c, p) {
    p.ack_subject = c.ack_subject.value;
    p.ack_body = c.ack_body.value.trim() === '' ? null : c.ack_body.value;
    const n = Number(c.ack_per_hour.value);
    p.ack_per_hour = c.ack_per_hour.value.trim() !== '' && Number.isInteger(n) ? n : c.ack_per_hour.value;
  }

  /* The body of the POST, or of the PATCH: only what changed. */
  function payload(c, mb, editing) {
    const p = {
      name: c.name.value.trim(),
      type: c.type.value,
      client_id: c.client_id.value.trim(),
      tenant_id: c.tenant_id.value.trim(),
      secret_expires_on: c.secret_expires_on.value || null,
      shared_address: c.shared_address.value.trim(),
      cloud: c.cloud.value,
      processed_action: c.processed_action.value,
      processed_folder: c.processed_action.value === 'move_to_folder' ? c.processed_folder.value.trim() : null,
      quarantine_folder: c.quarantine_folder.value.trim(),
      first_scan: c.first_scan.value,
      ack_enabled: c.ack_enabled.checked,
    };
    if (c.ack_enabled.checked) ackPayload(c, p);
    // Secret is write-only: empty on edit means "keep". On create, send what
    // was typed (even empty) and let the server name the problem.
    const secret = c.secret.value;
    if (secret !== '' || !editing) p.secret = secret.trim();
    if (!usesSecret(c)) {
      // a certificate: no secret; a new mailbox says so (mailbox_cert.js)
      delete p.secret;
      delete p.secret_expires_on;
      if (!editing) p.credential_type = 'certificate';
    }
    if (editing) {
      // PATCH only what changed: an untouched field is never re-validated
      // (e.g. an expiry date that has passed since it was saved).
      for (const k of Object.keys(p)) {
        if (k !== 'secret' && sameValue(p[k], mb[k])) delete p[k];
      }
    }
    return p;
  }

  /* Saves on submit; afterwards back to the list (a new mailbox: to its own
   * page, to authorize it), or the errors shown. */
  function onSubmit(ctx, form, c, mb, editing, errors) {
    const saveBtn = form.querySelector('#mb-save');
    let busy = false;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (busy) return;
      busy = true;
      errors.clear();
      saveBtn.disabled = true;
      saveBtn.textContent = 'Saving…';
      const body = payload(c, mb, editing);
      if (editing && Object.keys(body).length === 0) {
        pd.flash('info', 'No changes to save for “' + mb.name + '”.');
        pd.go('#/mailboxes');
        return;
      }
      try {
        const r = editing
          ? await api('PATCH', '/api/mailboxes/' + encodeURIComponent(mb.id), body, { ifMatch: mb._etag })
          : await api('POST', '/api/mailboxes', body);
        if (!ctx.alive()) return;
        const name = (r.data || {}).name || body.name;
        const text = editing ? 'Changes to “' + name + '” saved.' : 'Mailbox “' + name + '” created.';
        const id = (r.data || {}).id;
        if (!editing && id) {
          pd.flash('ok', text + ' Next: Authorize Application.');
          pd.announce(text + ' Next: Authorize Application.');
          pd.go('#/mailboxes/' + encodeURIComponent(id));
          return;
        }
        pd.flash('ok', text);
        pd.announce(text);
        pd.go('#/mailboxes');
      } catch (err) {
        if (!ctx.alive() || err.handled) return;
        busy = false;
        saveBtn.disabled = false;
        saveBtn.textContent = editing ? 'Save changes' : 'Create mailbox';
        errors.show(err);
      }
    });
  }

  // ---------------------------------------------------------------- form

  function buildForm(ctx, mailbox, setup, setupError) {
    const editing = !!mailbox;
    const mb = mailbox || {};
    const c = makeControls(mb, editing);
    addServerClouds(c.cloud, setup, mb);
    const parts = makeParts(c, mb, editing);
    const azure = window.postdeskAzure.panel(mb, setup, setupError, editing);
    // A shared address shows its checklist and the .Shared permissions.
    const syncShared = () => {
      const filled = c.shared_address.value.trim() !== '';
      parts.sharedNote.hidden = !filled;
      azure.setShared(filled);
    };
    c.shared_address.addEventListener('input', syncShared);
    c.shared_address.addEventListener('change', syncShared);
    syncShared();
    const formError = h('div', { id: 'form-error', class: 'form-error', tabindex: '-1', hidden: true, role: 'alert' });
    const form = h('form', { class: 'mailbox-form', id: 'mailbox-form', novalidate: true, autocomplete: 'off' },
      formError,
      mailboxFieldset(c),
      azureFieldset(c, parts, mb, editing),
      sharedFieldset(c, parts),
      processingFieldset(c, parts),
      parts.reauthWarning,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'mb-save' }, editing ? 'Save changes' : 'Create mailbox'),
        h('a', { class: 'btn btn-quiet', href: '#/mailboxes', id: 'mb-cancel' }, 'Cancel'),
        h('span', { class: 'form-actions-note', text: '* required' })));
    onSubmit(ctx, form, c, mb, editing, pd.formErrors(form, formError, FIELD_IDS,
      { notSaved: 'The mailbox was not saved.', taken: 'A mailbox with this name already exists.' }));
    const connection = connectionPanel(ctx, mb, editing, c);
    const side = h('aside', { class: 'side-col' },
      connection.node,
      editing ? window.postdeskCert.panel({ ctx, mb }) : null,
      azure.node,
      editing ? dangerZone(ctx, mb) : null);
    return [connection.next, h('div', { class: 'form-layout' }, h('div', { class: 'form-col' }, form), side)];
  }

  /* connect.js draws it; a change made there (first_scan) shows in the form too. */
  function connectionPanel(ctx, mb, editing, c) {
    return window.postdeskConnection.panel({
      ctx, mb, editing,
      mailboxChanged(fresh) {
        if (fresh.first_scan && c.first_scan.value !== fresh.first_scan) {
          c.first_scan.value = fresh.first_scan;
          c.first_scan.dispatchEvent(new Event('change'));
        }
      },
    });
  }

  // -------------------------------------------------------------- delete

  function confirmDelete(ctx, mb) {
    pd.confirmDialog({
      ctx,
      title: 'Delete mailbox “' + mb.name + '”?',
      text: 'postdesk stops scanning it and forgets its secret and tokens. Tickets already created stay. This cannot be undone.',
      yes: 'Delete mailbox', yesId: 'confirm-delete', busy: 'Deleting…', danger: true,
      async run() {
        try {
          await api('DELETE', '/api/mailboxes/' + encodeURIComponent(mb.id));
          return 'deleted';
        } catch (err) {
          if (err.status === 404) return 'gone';
          throw err;
        }
      },
      done(how) {
        if (how === 'gone') pd.flash('info', 'Mailbox “' + mb.name + '” was already deleted.');
        else pd.flash('ok', 'Mailbox “' + mb.name + '” deleted.');
        pd.go('#/mailboxes');
      },
    });
  }

  function dangerZone(ctx, mb) {
    const btn = h('button', { type: 'button', class: 'btn btn-danger', id: 'mb-delete' }, 'Delete mailbox');
    btn.addEventListener('click', () => confirmDelete(ctx, mb));
    return h('section', { class: 'card panel danger-zone', id: 'mb-danger', 'aria-labelledby': 'mb-danger-title' },
      h('h2', { id: 'mb-danger-title', text: 'Delete' }),
      h('p', { class: 'small', text: 'postdesk stops scanning this mailbox and forgets its secret and tokens. Tickets already created stay. The app registration in Azure is not touched.' }),
      btn);
  }

  window.postdeskMailboxForm = Object.freeze({ view });
}());
