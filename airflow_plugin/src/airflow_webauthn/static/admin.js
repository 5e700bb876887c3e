/* Passkey administration: invites, users and their passkeys, service accounts (keys and audit: admin-system.js). */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var el = M.el;
  var $ = M.byId;
  var T = window.WebAuthnAdminTables;
  var S = window.WebAuthnAdminSystem;
  var C = window.WebAuthnAdminCommandLines;

  var users = [];
  var openPasskeys = {}; // user id -> true while that user's passkeys are shown
  var accounts = [];
  // Airflow's own service account (its service_credentials): disabling it or rotating its secret cuts Airflow off.
  var airflowClientId = document.querySelector("main").getAttribute("data-airflow-client-id") || "";
  var AIRFLOW_CONSEQUENCE = "This is the account Airflow itself uses to check sessions with the sign-in service. ";

  // ---- invites ----

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
    var usernameInput = $("invite-username");
    var username = usernameInput.value.trim();
    if (!username) {
      usernameInput.setAttribute("aria-invalid", "true");
      page.setStatus("Enter the username of the person to invite.", "error");
      usernameInput.focus();
      return;
    }
    usernameInput.removeAttribute("aria-invalid");
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

  // ---- users and their passkeys ----

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

  async function togglePasskeys(user, button) {
    var panel = $("passkeys-of-" + user.id);
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    panel.hidden = !open;
    if (open) openPasskeys[user.id] = true;
    else delete openPasskeys[user.id];
    if (!open) return;
    try {
      await loadUserPasskeys(user);
    } catch (error) {
      M.reportError(error, "Passkeys of " + user.username + " could not be loaded: ");
    }
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

  // ---- service accounts ----

  async function loadServiceAccounts() {
    var isNewest = T.newest("accounts");
    var loaded = (await M.api("GET", "api/admin/service-accounts")) || [];
    if (!isNewest()) return;
    accounts = loaded;
    T.accounts = loaded;
    T.fill("service-accounts-table", accounts.map(function (account) {
      var name = account.name;
      var own = airflowClientId && account.clientId === airflowClientId;
      return el("tr", own ? { class: "airflow-own" } : {}, T.cells([
        own ? el("span", {}, [name, " ", el("span", { class: "badge badge-warning", title: "Airflow's service_credentials: disabling it or rotating its secret signs everyone out", text: "Used by Airflow" })]) : name,
        account.clientId,
        (account.groups || []).join(", ") || "—",
        account.disabled ? "Disabled" : "Active",
        el("span", { class: "row-actions" }, [
          account.disabled
            ? T.actionButton("Enable", "Enable " + name, "enable-account", account.id)
            : T.actionButton("Disable", "Disable " + name, "disable-account", account.id, "danger"),
          T.actionButton("New secret", "Rotate secret of " + name, "rotate-secret", account.id),
        ]),
      ]));
    }), "No service accounts yet.", 5);
  }

  function showSecret(result, what) {
    $("sa-client-id").value = result.clientId || "";
    $("sa-client-secret").value = result.clientSecret || "";
    $("sa-secret").hidden = false;
    page.setStatus(what + " Copy the client secret now: it is shown only once.", "success");
    M.focusLater($("sa-client-secret"));
  }

  async function createServiceAccount(event) {
    event.preventDefault();
    var nameInput = $("sa-name");
    var name = nameInput.value.trim();
    if (!name) {
      nameInput.setAttribute("aria-invalid", "true");
      page.setStatus("Enter a name for the service account.", "error");
      nameInput.focus();
      return;
    }
    nameInput.removeAttribute("aria-invalid");
    var body = { name: name };
    var groups = M.splitList($("sa-groups").value);
    if (groups.length) body.groups = groups;
    var button = $("create-service-account");
    button.disabled = true;
    try {
      var created = await M.api("POST", "api/admin/service-accounts", body);
      $("service-account-form").reset();
      showSecret(created, "Service account " + (created.name || name) + " created.");
      loadServiceAccounts().catch(function (error) { M.reportError(error, "Service accounts could not be loaded: "); });
    } catch (error) {
      M.reportError(error, "The service account was not created: ");
    } finally {
      button.disabled = false;
    }
  }

  async function accountAction(account, action) {
    var own = airflowClientId && account.clientId === airflowClientId;
    var texts = {
      "disable-account": { path: "disable", title: "Disable " + account.name + "?", message: "It cannot get new tokens, and its current tokens stop working.", label: "Disable account", done: account.name + " is disabled." },
      "enable-account": { path: "enable", done: account.name + " is enabled again." },
      "rotate-secret": { path: "rotate-secret", title: "Issue a new secret for " + account.name + "?", message: "The current secret and every token issued with it stop working (on the auth service at once, in Airflow within its recheck interval); update every client that uses it.", label: "Issue new secret", done: "New secret issued for " + account.name + "." },
    }[action];
    if (own && action === "disable-account") {
      texts.message = AIRFLOW_CONSEQUENCE + "Disabled, Airflow cannot confirm anyone's session: everyone is signed out within seconds and nobody can sign in until you enable it again.";
      texts.label = "Disable Airflow's account";
    } else if (own && action === "rotate-secret") {
      texts.message = AIRFLOW_CONSEQUENCE + "The current secret stops working at once: until you put the new one in Airflow's service_credentials and restart the api-server, sessions cannot be confirmed and people are signed out.";
      texts.label = "Issue new secret anyway";
    }
    if (texts.title) {
      var confirmed = await M.confirmAction({ title: texts.title, message: texts.message, confirmLabel: texts.label });
      if (!confirmed) return;
    }
    try {
      var result = await M.api("POST", "api/admin/service-accounts/" + encodeURIComponent(account.id) + "/" + texts.path, {});
      await loadServiceAccounts();
      if (action === "rotate-secret") {
        showSecret(result, texts.done);
      } else {
        page.setStatus(texts.done, "success");
        M.focusLater(T.findButton(T.tbody("service-accounts-table"), action === "disable-account" ? "enable-account" : "disable-account", account.id));
      }
    } catch (error) {
      M.reportError(error, "Nothing was changed for " + account.name + ": ");
    }
  }

  // ---- wiring ----

  function report(what) {
    return function (error) { M.reportError(error, what + " could not be loaded: "); };
  }

  async function loadAll() {
    try {
      await loadUsers(); // the first call asks to confirm it's you when needed
    } catch (error) {
      M.reportError(error, "Users could not be loaded: ");
      $("locked").hidden = false;
      return;
    }
    $("locked").hidden = true;
    await Promise.all([
      loadInvites().catch(report("Pending invites")),
      loadServiceAccounts().catch(report("Service accounts")),
      S.loadAudit(false).catch(report("The audit trail")),
      S.loadKeys().catch(report("Signing keys")),
    ]);
  }

  $("invite-form").addEventListener("submit", createInvite);
  $("copy-invite-link").addEventListener("click", function () { M.copyField($("invite-link"), "Invite link"); });
  $("copy-sa-secret").addEventListener("click", function () { M.copyField($("sa-client-secret"), "Client secret"); });
  $("service-account-form").addEventListener("submit", createServiceAccount);
  $("unlock").addEventListener("click", function () {
    M.stepUp().then(loadAll, function () { /* message already shown */ });
  });

  document.querySelector("main").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var id = button.getAttribute("data-id");
    var action = button.getAttribute("data-action");
    if (action === "revoke-invite") revokeInvite(id, button);
    else if (action === "revoke-passkey") revokePasskey(button);
    else if (action === "unflag-passkey") unflagPasskey(button);
    else if (action === "toggle-passkeys" || action === "disable-user" || action === "enable-user" || action === "edit-groups") {
      var user = T.byIdIn(users, id);
      if (!user) return;
      if (action === "toggle-passkeys") togglePasskeys(user, button);
      else if (action === "edit-groups") editGroups(user);
      else setUserDisabled(user, action === "disable-user");
    } else {
      var account = T.byIdIn(accounts, id);
      if (account) accountAction(account, action);
    }
  });

  if (!page.browser() || !page.browser().browserSupportsWebAuthn()) {
    page.setStatus("This browser cannot use passkeys, so administration (which asks you to confirm it's you) is not available here.", "error");
    return;
  }
  loadAll();
})();
