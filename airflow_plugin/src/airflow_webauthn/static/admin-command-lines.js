/* Administration page: the command lines (airflowctl) signed in as each person, and signing one out. admin.js
   puts this module's button and panel into each user's rows; the panel loads and acts on its own. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var T = window.WebAuthnAdminTables;
  var el = M.el;
  var $ = M.byId;
  var open = {}; // user id -> true while that person's command lines are shown

  function panelId(user) {
    return "command-lines-of-" + user.id;
  }

  function listOf(user) {
    return T.tbody("users-table").querySelector("ul[data-command-lines-of='" + user.id + "']");
  }

  /** The row's "Command lines" button (its own data attribute: admin.js's handler leaves it alone). */
  function button(user) {
    return el("button", {
      type: "button", class: "small secondary", "data-cli-action": "toggle", "data-id": user.id,
      "aria-expanded": open[user.id] ? "true" : "false", "aria-controls": panelId(user),
      "aria-label": "Command lines of " + user.username, text: "Command lines",
    });
  }

  function panel(user, columns) {
    return el("tr", { class: "sub-row", id: panelId(user), hidden: !open[user.id] }, [
      el("td", { colspan: columns }, [
        el("p", { class: "meta", text: "Command lines signed in as " + user.username + " with a one-time code (airflowctl):" }),
        el("ul", { class: "items compact", "data-command-lines-of": user.id }, [el("li", { class: "empty", text: "Loading command lines…" })]),
      ]),
    ]);
  }

  function item(user, line) {
    var client = line.client || "Command line";
    var signedIn = M.formatDate(line.usedAt);
    var meta = "Signed in " + signedIn + " from " + (line.usedFrom || "an unknown address") +
      " · Last used " + M.formatDate(line.lastUsedAt || line.usedAt);
    return el("li", { class: "item", "data-command-line": line.id }, [
      el("div", { class: "item-main" }, [el("span", { class: "item-name", text: client }), el("p", { class: "meta", text: meta })]),
      el("div", { class: "item-actions" }, [
        el("button", {
          type: "button", class: "small danger", "data-cli-action": "revoke", "data-id": line.id, "data-user": user.id,
          "data-name": client, "aria-label": "Sign out " + client + " of " + user.username + ", signed in " + signedIn, text: "Revoke",
        }),
      ]),
    ]);
  }

  async function load(user) {
    var list = listOf(user);
    if (!list) return;
    list.setAttribute("aria-busy", "true");
    try {
      var lines = (await M.api("GET", "api/admin/users/" + encodeURIComponent(user.id) + "/command-lines")) || [];
      list.textContent = "";
      if (lines.length === 0) list.appendChild(el("li", { class: "empty", text: "No command line is signed in as " + user.username + "." }));
      lines.forEach(function (line) { list.appendChild(item(user, line)); });
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function toggle(user, toggleButton) {
    return T.toggleSubRow(toggleButton, $(panelId(user)), open, user.id, function () { return load(user); },
      "Command lines of " + user.username);
  }

  async function revoke(user, revokeButton) {
    var name = revokeButton.getAttribute("data-name");
    var confirmed = await M.confirmAction({
      title: "Sign out “" + name + "” of " + user.username + "?",
      message: "Airflow refuses this command line at its next re-check (within minutes); " + user.username +
        " can sign it in again with a new code from their Passkeys page.",
      confirmLabel: "Sign out command line",
    });
    if (!confirmed) return;
    var path = "api/admin/users/" + encodeURIComponent(user.id) + "/command-lines/" + encodeURIComponent(revokeButton.getAttribute("data-id"));
    try {
      await M.api("DELETE", path, {});
      await load(user);
      page.setStatus("“" + name + "” of " + user.username + " is signed out: Airflow refuses it at its next re-check.", "success");
      M.focusLater(T.tbody("users-table").querySelector("button[data-cli-action='toggle'][data-id='" + user.id + "']"));
    } catch (error) {
      M.reportError(error, "“" + name + "” of " + user.username + " was not signed out: ");
    }
  }

  /** After the users table is rebuilt: the panels that were open load again. */
  function reload(users) {
    return Promise.all(users.filter(function (user) { return open[user.id]; }).map(load));
  }

  $("users-table").addEventListener("click", function (event) {
    var target = event.target.closest("button[data-cli-action]");
    if (!target) return;
    var action = target.getAttribute("data-cli-action");
    var user = T.byIdIn(T.users, action === "toggle" ? target.getAttribute("data-id") : target.getAttribute("data-user"));
    if (!user) return;
    if (action === "toggle") toggle(user, target);
    else if (action === "revoke") revoke(user, target);
  });

  window.WebAuthnAdminCommandLines = { button: button, panel: panel, reload: reload };
})();
