/* Administration page, invites panel: create an invite link, list and revoke pending invites. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var el = M.el;
  var $ = M.byId;
  var T = window.WebAuthnAdminTables;

  async function loadInvites() {
    var isNewest = T.newest("invites");
    var invites = await M.api("GET", "api/admin/invites");
    if (!isNewest()) return;
    var pending = (invites || []).filter(function (invite) { return invite.state === "pending"; });
    T.fill("invites-table", pending.map(function (invite) {
      return el("tr", {}, T.cells([
        invite.username,
        M.formatDate(invite.expiresAt),
        // The service names the creator (a username, or a service account's name for CLI-made invites).
        invite.createdByName || invite.createdBy,
        T.actionButton("Revoke", "Revoke invite for " + invite.username, "revoke-invite", invite.id, "danger"),
      ]));
    }), "No pending invites.", 4);
  }

  async function createInvite(event) {
    event.preventDefault();
    var username = M.requiredValue($("invite-username"), "Enter the username of the person to invite.");
    if (!username) return;
    var body = { username: username, ttlSeconds: Number($("invite-ttl").value) };
    var displayName = $("invite-display-name").value.trim();
    var groups = M.splitList($("invite-groups").value);
    if (displayName) body.displayName = displayName;
    if (groups.length) body.groups = groups;
    var button = $("create-invite");
    button.disabled = true;
    try {
      var invite = await M.api("POST", "api/admin/invites", body);
      $("invite-summary").textContent = "Invite for " + invite.username + " created. Send them this link:";
      $("invite-link").value = invite.link;
      $("invite-expiry").textContent = "It can be used once and expires " + M.formatDate(invite.expiresAt) + ".";
      $("invite-result").hidden = false;
      $("invite-form").reset();
      page.setStatus("Invite created for " + invite.username + ". Copy the link and send it to them.", "success");
      M.focusLater($("invite-link"));
      loadInvites().catch(function (error) { M.reportError(error, "Pending invites could not be loaded: "); });
    } catch (error) {
      M.reportError(error, "The invite was not created: ");
    } finally {
      button.disabled = false;
    }
  }

  async function revokeInvite(id, button) {
    var row = button.closest("tr");
    var username = row ? row.cells[0].textContent : "this person";
    var confirmed = await M.confirmAction({
      title: "Revoke the invite for " + username + "?",
      message: "The link stops working at once. You can create a new invite later.",
      confirmLabel: "Revoke invite",
    });
    if (!confirmed) return;
    try {
      await M.api("DELETE", "api/admin/invites/" + encodeURIComponent(id), {});
      await loadInvites();
      page.setStatus("Invite for " + username + " revoked.", "success");
      M.focusLater($("invite-title"));
    } catch (error) {
      M.reportError(error, "The invite was not revoked: ");
    }
  }

  $("invite-form").addEventListener("submit", createInvite);
  $("copy-invite-link").addEventListener("click", function () { M.copyField($("invite-link"), "Invite link"); });
  $("invites-table").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action='revoke-invite']");
    if (button) revokeInvite(button.getAttribute("data-id"), button);
  });

  T.addPanel("Pending invites", loadInvites);
})();
