/* postdesk portal — "Register these in Azure", the panel of the mailbox
 * form that says what the app registration in Azure needs: the redirect
 * URIs, the delegated Graph permissions (the .Shared ones only for a shared
 * mailbox) and admin consent.  As window.postdeskAzure.panel().
 */
'use strict';

(function () {
  const pd = window.postdesk;
  const { h, strong } = pd;

  // What each delegated Graph permission is for, in an admin's words.
  const PERMISSION_NOTES = {
    offline_access: 'Keeps access while nobody is signed in, so the scanner can keep reading the mailbox.',
    openid: 'Signs the user in with their work or school account.',
    email: "Reads the user's primary email address.",
    profile: "Reads the user's basic profile; used to verify the mailbox when authorizing.",
    'Mail.ReadWrite': 'Reads mail and moves processed messages.',
    'Mail.Send': 'Sends acknowledgements and replies as the mailbox.',
    'Mail.ReadWrite.Shared': 'Reads and moves mail in the shared mailbox the user can access.',
    'Mail.Send.Shared': 'Sends as, or on behalf of, the shared mailbox.',
  };
  const FALLBACK_LICENSED = ['offline_access', 'openid', 'email', 'profile', 'Mail.ReadWrite', 'Mail.Send'];
  const FALLBACK_SHARED = ['Mail.ReadWrite.Shared', 'Mail.Send.Shared'];

  function permissionItem(name) {
    return h('li', { class: 'perm', dataset: { permission: name } },
      h('code', { class: 'perm-name', text: name }),
      PERMISSION_NOTES[name] ? h('span', { class: 'perm-note', text: PERMISSION_NOTES[name] }) : null);
  }

  /* The permissions from GET /api/azure-setup; else the mailbox's own; else
   * the ones this page knows. */
  function permissions(mb, setup, editing) {
    const perms = setup.permissions || {};
    let licensed = Array.isArray(perms.licensed) ? perms.licensed : null;
    let shared = Array.isArray(perms.shared) ? perms.shared : null;
    if (!licensed || !shared) {
      const own = editing && Array.isArray(mb.permissions) ? mb.permissions : null;
      if (own && own.length) {
        licensed = licensed || own.filter((p) => !/\.Shared$/.test(p));
        shared = shared || (own.some((p) => /\.Shared$/.test(p)) ? own.filter((p) => /\.Shared$/.test(p)) : FALLBACK_SHARED);
      }
      licensed = licensed || FALLBACK_LICENSED;
      shared = shared || FALLBACK_SHARED;
    }
    return { licensed, shared };
  }

  function redirectUris(mb, setup, editing) {
    const uris = (editing && Array.isArray(mb.redirect_uris) && mb.redirect_uris.length)
      ? mb.redirect_uris
      : (Array.isArray(setup.redirect_uris) ? setup.redirect_uris : []);
    if (!uris.length) return h('p', { class: 'muted small', text: 'Redirect URIs could not be loaded.' });
    const steps = ['Web platform redirect URI, entered at New registration (Single tenant):',
      'Then, on the Authentication tab, add this second redirect URI and save:'];
    return h('ol', { class: 'uri-list' }, uris.map((u, i) => {
      const code = h('code', { class: 'redirect-uri', text: u });
      return h('li', { class: 'uri-item' },
        h('p', { class: 'small', text: steps[i] || 'Redirect URI:' }),
        h('div', { class: 'copy-row' }, code,
          pd.copyButton(() => ({ text: u, node: code }), 'Copy redirect URI ' + (i + 1))));
    }));
  }

  /* The permission lists and their Copy button; setShared(on) shows the
   * .Shared ones (and copies them too) or the note that they are not needed. */
  function permissionBlock(licensed, shared) {
    const sharedBlock = h('div', { id: 'perm-shared-block', class: 'perm-shared' },
      h('p', { class: 'small', text: 'For a shared mailbox, also:' }),
      h('ul', { class: 'perm-list', id: 'perm-shared' }, shared.map(permissionItem)));
    const sharedOff = h('p', { class: 'small muted', id: 'perm-shared-off', text: 'Mail.ReadWrite.Shared and Mail.Send.Shared are needed only for a shared mailbox (fill in its address to include them).' });
    let sharedOn = false;
    const permsText = h('span', { class: 'visually-hidden' });
    const current = () => licensed.concat(sharedOn ? shared : []).join(' ');
    return {
      nodes: [
        h('ul', { class: 'perm-list', id: 'perm-licensed' }, licensed.map(permissionItem)),
        sharedBlock,
        sharedOff,
        h('div', { class: 'copy-row copy-row-end' },
          permsText,
          pd.copyButton(() => { permsText.textContent = current(); return { text: current(), node: permsText }; },
            'Copy permission names', 'Copy permission names')),
      ],
      setShared(on) {
        sharedOn = on;
        sharedBlock.hidden = !on;
        sharedOff.hidden = on;
      },
    };
  }

  /* {node, setShared(on)}: the panel for mailbox mb (new: {}), from the
   * answer of GET /api/azure-setup (null when it failed with setupError). */
  function panel(mb, setup, setupError, editing) {
    setup = setup || {};
    const { licensed, shared } = permissions(mb, setup, editing);
    const perms = permissionBlock(licensed, shared);
    const node = h('section', { class: 'card panel', id: 'azure-setup', 'aria-labelledby': 'azure-setup-title' },
      h('h2', { id: 'azure-setup-title', text: 'Register these in Azure' }),
      setupError ? pd.problemBlock(setupError) : null,
      h('p', { class: 'small', text: 'In the Azure portal: Microsoft Entra ID › App registrations › New registration. One app can serve several mailboxes, or use one per mailbox.' }),
      h('h3', { text: '1. Redirect URIs' }),
      redirectUris(mb, setup, editing),
      h('h3', { text: '2. Client ID, Tenant ID and secret' }),
      h('p', { class: 'small', text: 'From the app’s Overview page copy the Application (client) ID and the Directory (tenant) ID. Under Certificates & secrets create a client secret and copy its Value (not the Secret ID) — it is shown only once.' }),
      h('h3', { text: '3. API permissions' }),
      h('p', { class: 'small' }, 'Add a permission › ', strong('Microsoft Graph'), ' › ', strong('Delegated permissions'), ':'),
      perms.nodes,
      h('h3', { text: '4. Grant admin consent' }),
      h('p', { class: 'small', id: 'azure-consent' }, 'Click ', strong('Grant admin consent'), ' at the top of the API permissions list, for all of them — whatever Azure suggests. Without it, authorizing fails.'));
    return { node, setShared: perms.setShared };
  }

  window.postdeskAzure = Object.freeze({ panel });
}());
