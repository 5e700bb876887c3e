/* Administration page: loads every panel once the admin has confirmed it's them (panels: admin-invites.js,
   admin-users.js, admin-command-lines.js, admin-service-accounts.js, admin-system.js). */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var $ = M.byId;
  var S = window.WebAuthnAdminSystem;

  function report(what) {
    return function (error) { M.reportError(error, what + " could not be loaded: "); };
  }

  async function loadAll() {
    try {
      await window.WebAuthnAdminUsers.load(); // the first call asks to confirm it's you when needed
    } catch (error) {
      M.reportError(error, "Users could not be loaded: ");
      $("locked").hidden = false;
      return;
    }
    $("locked").hidden = true;
    await Promise.all([
      window.WebAuthnAdminInvites.load().catch(report("Pending invites")),
      window.WebAuthnAdminServiceAccounts.load().catch(report("Service accounts")),
      S.loadAudit(false).catch(report("The audit trail")),
      S.loadKeys().catch(report("Signing keys")),
    ]);
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
