/* postdesk portal — the Certificate panel of the mailbox page (certificate
 * credentials, docs/graph-contract.md section 10).
 *
 * A mailbox's app proves itself to Microsoft with a client secret (the
 * form's secret field) or a certificate.  This panel shows the mailbox's
 * certificate — thumbprint, subject, expiry, "Download .cer" — and
 * generates a new one or takes an uploaded PEM key and certificate
 * (PUT /api/mailboxes/{id}/credential).  The key is sent once, over the
 * API, and never shown again.  mailbox_form.js calls
 * window.postdeskCert.panel({ctx, mb}) -> node.
 *
 * Same rules as every portal script (dom.js): DOM by createElement/
 * textContent only, no inline styles, every change through api().
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const { h, api, replace, strong } = pd;

  const UPLOAD_STEPS = 'In Azure, open the app registration › Certificates & secrets › Certificates, press Upload certificate and choose the .cer file. The thumbprint Azure then lists must be the one shown here.';

  const FIELD_IDS = { key_size: 'mb-cert-size', generate: 'mb-cert-generate', key_pem: 'mb-cert-key', cert_pem: 'mb-cert-pem', type: 'mb-cert-generate' };

  /* Whole days from now until an RFC 3339 time (negative: past). */
  function daysUntil(iso) {
    const t = Date.parse(iso || '');
    return Number.isNaN(t) ? null : Math.floor((t - Date.now()) / 86400000);
  }

  function expiry(c) {
    const d = daysUntil(c.expires_at);
    const day = String(c.expires_at || '').slice(0, 10);
    if (d !== null && d < 0) {
      return h('dd', { id: 'mb-cert-expires', class: 'expiry expiry-bad', dataset: { state: 'expired' } },
        day + ' (expired) — generate a new certificate and upload it in Azure.');
    }
    if (c.expiring) {
      return h('dd', { id: 'mb-cert-expires', class: 'expiry expiry-warn', dataset: { state: 'soon' } },
        day + ' (in ' + d + ' day' + (d === 1 ? '' : 's') + ') — generate the next certificate and upload it in Azure now.');
    }
    return h('dd', { id: 'mb-cert-expires', dataset: { state: 'ok' }, text: day });
  }

  function facts(mb) {
    const c = mb.certificate;
    return [
      h('dl', { class: 'cert-facts', id: 'mb-cert-facts' },
        h('dt', { text: 'Thumbprint' }), h('dd', { class: 'mono', id: 'mb-cert-thumbprint', text: c.thumbprint }),
        h('dt', { text: 'Subject' }), h('dd', { id: 'mb-cert-subject', text: c.subject }),
        h('dt', { text: 'Expires' }), expiry(c)),
      h('p', { class: 'panel-actions' },
        h('a', { class: 'btn btn-small', id: 'mb-cert-download', download: '',
          href: '/api/mailboxes/' + encodeURIComponent(mb.id) + '/certificate.cer' }, 'Download .cer')),
      h('p', { class: 'small', id: 'mb-cert-steps', text: UPLOAD_STEPS }),
    ];
  }

  function intro(mb) {
    if (mb.credential_type === 'certificate' && !mb.certificate) {
      return h('p', { class: 'warning', id: 'mb-cert-missing', role: 'note' },
        strong('No certificate yet. '), 'Generate one (or upload your own), download the .cer and upload it in Azure before you authorize.');
    }
    if (mb.credential_type !== 'certificate') {
      return h('p', { class: 'small', id: 'mb-cert-intro' },
        'This mailbox uses a client secret. A certificate does not have to be pasted around and can last longer: generate one here and the secret is forgotten.');
    }
    return null;
  }

  /* After a change: the page again, with the new facts and version. */
  function saved(mb, text) {
    pd.flash('ok', text);
    pd.announce(text);
    pd.go('#/mailboxes/' + encodeURIComponent(mb.id));
  }

  async function put(kit, form, errors, btn, body, text) {
    errors.clear();
    btn.disabled = true;
    try {
      const r = await api('PUT', '/api/mailboxes/' + encodeURIComponent(kit.mb.id) + '/credential', body);
      if (!kit.ctx.alive()) return;
      saved(r.data || kit.mb, text);
    } catch (err) {
      if (!kit.ctx.alive() || err.handled) return;
      btn.disabled = false;
      errors.show(err);
    }
  }

  function generateForm(kit) {
    const size = h('select', { id: 'mb-cert-size', name: 'key_size' },
      pd.options([{ id: '2048', name: 'RSA 2048 bits' }, { id: '3072', name: 'RSA 3072 bits' }], '2048'));
    const btn = h('button', { type: 'submit', class: 'btn btn-primary btn-small', id: 'mb-cert-generate' },
      kit.mb.certificate ? 'Generate a new certificate' : 'Generate certificate');
    const box = h('div', { class: 'form-error', id: 'mb-cert-gen-error', tabindex: '-1', hidden: true, role: 'alert' });
    const form = h('form', { id: 'mb-cert-gen-form', novalidate: true }, box,
      pd.field('mb-cert-size', 'Key size', size, 'Valid for two years. postdesk keeps the private key, sealed; Azure needs only the .cer.'),
      kit.mb.status === 'connected'
        ? h('p', { class: 'small', id: 'mb-cert-reauth', text: 'A new certificate needs authorizing again once it is uploaded in Azure.' })
        : null,
      btn);
    const errors = pd.formErrors(form, box, FIELD_IDS, { notSaved: 'No certificate was made.' });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      put(kit, form, errors, btn, { type: 'certificate', generate: true, key_size: Number(size.value) },
        'Certificate generated. Download the .cer and upload it in Azure.');
    });
    return form;
  }

  function uploadForm(kit) {
    const key = h('textarea', { id: 'mb-cert-key', name: 'key_pem', rows: '5', spellcheck: 'false', class: 'mono', autocomplete: 'off',
      placeholder: '-----BEGIN PRIVATE KEY-----' });
    const cert = h('textarea', { id: 'mb-cert-pem', name: 'cert_pem', rows: '5', spellcheck: 'false', class: 'mono',
      placeholder: '-----BEGIN CERTIFICATE-----' });
    const btn = h('button', { type: 'submit', class: 'btn btn-small', id: 'mb-cert-upload' }, 'Upload key and certificate');
    const box = h('div', { class: 'form-error', id: 'mb-cert-up-error', tabindex: '-1', hidden: true, role: 'alert' });
    const form = h('form', { id: 'mb-cert-up-form', novalidate: true }, box,
      pd.field('mb-cert-key', 'Private key (PEM)', key, 'An RSA key of 2048 bits or more, without a passphrase. It is sealed and never shown again.'),
      pd.field('mb-cert-pem', 'Certificate (PEM)', cert, 'The certificate of that key, valid now.'),
      btn);
    const errors = pd.formErrors(form, box, FIELD_IDS, { notSaved: 'The certificate was not saved.' });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      put(kit, form, errors, btn, { type: 'certificate', key_pem: key.value, cert_pem: cert.value },
        'Certificate saved. Upload the same certificate in Azure if it is not there yet.');
      key.value = '';
    });
    return h('details', { class: 'cert-upload', id: 'mb-cert-upload-details' },
      h('summary', { text: 'Upload your own key and certificate' }), form);
  }

  function panel(kit) {
    const mb = kit.mb || {};
    const section = h('section', { class: 'card panel cert-panel', id: 'mb-cert', 'aria-labelledby': 'mb-cert-title' },
      h('h2', { id: 'mb-cert-title', text: 'Certificate' }));
    replace(section, section.firstChild, intro(mb), mb.certificate ? facts(mb) : null,
      generateForm(kit), uploadForm(kit));
    return section;
  }

  window.postdeskCert = Object.freeze({ panel });
}());
