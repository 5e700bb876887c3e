/* Administration page, users panel: people, their groups and passkeys (command lines: admin-command-lines.js). */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var el = M.el;
  var $ = M.byId;
  var T = window.WebAuthnAdminTables;
  var C = window.WebAuthnAdminCommandLines;

  var users = [];
  var openPasskeys = {}; // user id -> true while that user's passkeys are shown

  var flagText = M.flagText;

  /* Columns of the users table (admin.html): username, display name, groups, status, last sign-in, identity
     provider, last IdP sign-in, actions. */
  var USER_COLUMNS = 8;

  function userRows(user) {
    var name = user.username;
    var toggle = user.disabled
      ? T.actionButton("Enable", "Enable " + name, "enable-user", user.id)
      : T.actionButton("Disable", "Disable " + name, "disable-user", user.id, "danger");
    var panelId = "passkeys-of-" + user.id;
    var show = el("button", {
      type: "button", class: "small secondary", "data-action": "toggle-passkeys", "data-id": user.id,
      "aria-expanded": openPasskeys[user.id] ? "true" : "false", "aria-controls": panelId,
      "aria-label": "Passkeys of " + name, text: "Passkeys",
    });
    var groups = el("button", {
      type: "button", class: "small secondary", "data-action": "edit-groups", "data-id": user.id,
      "aria-label": "Edit groups of " + name, text: "Groups",
    });
    var rows = [el("tr", { "data-user": user.id }, T.cells([
      name,
      user.displayName,
      (user.groups || []).join(", ") || "—",
      user.disabled ? "Disabled" : "Active",
      M.formatDate(user.lastLoginAt, "Never"),
      // The provider's issuer URL (what OIDC_ISSUER says) for a federated person; a local one was invited.
      user.idp || "Local (passkey only)",
      user.idp ? M.formatDate(user.lastIdpLoginAt, "Never") : "—",
      el("span", { class: "row-actions" }, [toggle, groups, show, C.button(user)]),
    ]))];
    var panel = el("tr", { class: "sub-row", id: panelId, hidden: !openPasskeys[user.id] }, [
      el("td", { colspan: USER_COLUMNS }, [el("ul", { class: "items compact", "data-passkeys-of": user.id }, [
        el("li", { class: "empty", text: "Loading passkeys…" }),
      ])]),
    ]);
    rows.push(panel, C.panel(user, USER_COLUMNS));
    return rows;
  }

  async function loadUsers() {
    var isNewest = T.newest("users");
    var loaded = (await M.api("GET", "api/admin/users")) || [];
    if (!isNewest()) return;
    users = loaded;
    T.users = loaded;
    var rows = [];
    users.forEach(function (user) { rows = rows.concat(userRows(user)); });
    T.fill("users-table", rows, "No users yet. Invite someone above.", USER_COLUMNS);
    await Promise.all(users.filter(function (u) { return openPasskeys[u.id]; }).map(loadUserPasskeys).concat(C.reload(users)));
  }

  async function loadUserPasskeys(user) {
    var listNode = T.tbody("users-table").querySelector("ul[data-passkeys-of='" + user.id + "']");
    var passkeys = (await M.api("GET", "api/admin/users/" + encodeURIComponent(user.id) + "/passkeys")) || [];
    listNode.textContent = "";
    if (passkeys.length === 0) {
      listNode.appendChild(el("li", { class: "empty", text: user.username + " has no passkeys." }));
    }
    passkeys.forEach(function (passkey) {
      var name = passkey.label || passkey.authenticator || "Passkey";
      var flagged = !passkey.revokedAt && passkey.flaggedAt;
      var state = passkey.revokedAt ? "Revoked " + M.formatDate(passkey.revokedAt) : flagged ? flagText(passkey) : "Active";
      listNode.appendChild(el("li", { class: "item" + (passkey.revokedAt ? " revoked" : "") + (flagged ? " flagged" : "") }, [
        el("div", { class: "item-main" }, [
          el("span", { class: "item-name", text: name }),
          el("p", { class: "meta", text: state + " · Added " + M.formatDate(passkey.createdAt) + " · Last used " + M.formatDate(passkey.lastUsedAt, "never") }),
        ]),
        passkey.revokedAt ? null : el("div", { class: "item-actions" }, [
          flagged ? el("button", { type: "button", class: "small", "data-action": "unflag-passkey", "data-id": passkey.id, "data-user": user.id, "data-name": name, "aria-label": "Unblock " + name, text: "Unblock" }) : null,
          el("button", { type: "button", class: "small danger", "data-action": "revoke-passkey", "data-id": passkey.id, "data-user": user.id, "data-name": name, "aria-label": "Revoke " + name, text: "Revoke" }),
        ]),
      ]));
    });
  }

  function togglePasskeys(user, button) {
    return T.toggleSubRow(button, $("passkeys-of-" + user.id), openPasskeys, user.id,
      function () { return loadUserPasskeys(user); }, "Passkeys of " + user.username);
  }

  async function setUserDisabled(user, disable) {
    if (disable) {
      var confirmed = await M.confirmAction({
        title: "Disable " + user.username + "?",
        message: user.username + " cannot sign in any more, and their Airflow sessions and tokens end within minutes, for good: enabling them again later lets them sign in again, it does not bring those sessions back.",
        confirmLabel: "Disable user",
      });
      if (!confirmed) return;
    }
    try {
      await M.api("POST", "api/admin/users/" + encodeURIComponent(user.id) + "/" + (disable ? "disable" : "enable"), {});
      await loadUsers();
      page.setStatus(user.username + " is " + (disable ? "disabled." : "enabled again."), "success");
      M.focusLater(T.findButton(T.tbody("users-table"), disable ? "enable-user" : "disable-user", user.id));
    } catch (error) {
      M.reportError(error, user.username + " was not " + (disable ? "disabled" : "enabled") + ": ");
    }
  }

  async function editGroups(user) {
    var groups = await M.askText({
      title: "Groups of " + user.username,
      message: "Comma-separated. Groups decide " + user.username + "'s Airflow role from their next sign-in.",
      label: "Groups",
      value: (user.groups || []).join(", "),
      confirmLabel: "Save groups",
    });
    if (groups === null) return;
    try {
      await M.api("PATCH", "api/admin/users/" + encodeURIComponent(user.id), { groups: M.splitList(groups) });
      await loadUsers();
      page.setStatus("Groups of " + user.username + " saved. They apply from " + user.username + "'s next sign-in.", "success");
      M.focusLater(T.findButton(T.tbody("users-table"), "edit-groups", user.id));
    } catch (error) {
      M.reportError(error, "The groups of " + user.username + " were not changed: ");
    }
  }

  async function unflagPasskey(button) {
    var user = T.byIdIn(users, button.getAttribute("data-user"));
    var name = button.getAttribute("data-name");
    var confirmed = await M.confirmAction({
      title: "Unblock “" + name + "” of " + (user ? user.username : "this user") + "?",
      message: "Do this only if you know why it was blocked (for example, " + (user ? user.username : "they") + " restored the device from a backup). It signs in again at once; sessions from before it was blocked stay ended.",
      confirmLabel: "Unblock passkey",
    });
    if (!confirmed) return;
    try {
      await M.api("POST", "api/admin/passkeys/" + encodeURIComponent(button.getAttribute("data-id")) + "/unflag", {});
      if (user) await loadUserPasskeys(user);
      page.setStatus("“" + name + "” is unblocked.", "success");
      if (user) M.focusLater(T.findButton(T.tbody("users-table"), "toggle-passkeys", user.id));
    } catch (error) {
      M.reportError(error, "“" + name + "” was not unblocked: ");
    }
  }

  async function revokePasskey(button) {
    var user = T.byIdIn(users, button.getAttribute("data-user"));
    var name = button.getAttribute("data-name");
    var confirmed = await M.confirmAction({
      title: "Revoke “" + name + "” of " + (user ? user.username : "this user") + "?",
      message: "The passkey stops working at once and sessions signed in with it end. They can enroll a new passkey with an invite.",
      confirmLabel: "Revoke passkey",
    });
    if (!confirmed) return;
    try {
      await M.api("DELETE", "api/admin/passkeys/" + encodeURIComponent(button.getAttribute("data-id")), {});
      if (user) await loadUserPasskeys(user);
      page.setStatus("Revoked “" + name + "”.", "success");
      if (user) M.focusLater(T.findButton(T.tbody("users-table"), "toggle-passkeys", user.id));
    } catch (error) {
      M.reportError(error, "“" + name + "” was not revoked: ");
    }
  }

  $("users-table").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var action = button.getAttribute("data-action");
    if (action === "revoke-passkey") revokePasskey(button);
    else if (action === "unflag-passkey") unflagPasskey(button);
    else {
      var user = T.byIdIn(users, button.getAttribute("data-id"));
      if (!user) return;
      if (action === "toggle-passkeys") togglePasskeys(user, button);
      else if (action === "edit-groups") editGroups(user);
      else if (action === "disable-user" || action === "enable-user") setUserDisabled(user, action === "disable-user");
    }
  });

  window.WebAuthnAdminUsers = { load: loadUsers };
})();
