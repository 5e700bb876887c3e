/* Administration page: loads every panel once the admin has confirmed it's them. The users panel
   (admin-users.js) goes first, as its call asks to confirm; the others registered themselves with
   WebAuthnAdminTables.addPanel (admin-invites.js, admin-service-accounts.js, admin-delegations.js,
   admin-system.js). */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var $ = M.byId;
  var T = window.WebAuthnAdminTables;

  async function loadAll() {
    try {
      await window.WebAuthnAdminUsers.load(); // the first call asks to confirm it's you when needed
    } catch (error) {
      M.reportError(error, "Users could not be loaded: ");
      $("locked").hidden = false;
      return;
    }
    $("locked").hidden = true;
    await Promise.all(T.panels.map(function (panel) {
      return Promise.resolve().then(panel.load).catch(function (error) {
        M.reportError(error, panel.what + " could not be loaded: ");
      });
    }));
  }

  $("unlock").addEventListener("click", function () {
    M.stepUp().then(loadAll, function () { /* message already shown */ });
  });

  if (!page.browser() || !page.browser().browserSupportsWebAuthn()) {
    page.setStatus("This browser cannot use passkeys, so administration (which asks you to confirm it's you) is not available here.", "error");
    return;
  }
  loadAll();
})();
