/* "Sign in a command line": one-time codes for airflowctl, and the command lines signed in with one. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var el = M.el;
  var createButton = M.byId("create-cli-code");
  var shown = M.byId("cli-code-shown");
  var commandText = M.byId("cli-command");
  var codeInput = M.byId("cli-code");
  var codeExpiry = M.byId("cli-code-expiry");
  var copyButton = M.byId("copy-cli-code");
  var pendingList = M.byId("pending-codes");
  var linesList = M.byId("command-line-list");
  var title = M.byId("cli-title");

  function revokeButton(row, label) {
    return el("div", { class: "item-actions" }, [
      el("button", { type: "button", class: "danger", "data-action": "revoke-cli", "data-id": row.id, "aria-label": label, text: "Revoke" }),
    ]);
  }

  function renderPending(rows) {
    pendingList.textContent = "";
    if (rows === null) {
      pendingList.appendChild(el("li", { class: "empty", text: "Confirm with your passkey to see codes you have not used yet." }));
      return;
    }
    if (rows.length === 0) {
      pendingList.appendChild(el("li", { class: "empty", text: "No unused codes." }));
      return;
    }
    rows.forEach(function (row) {
      var meta = "Created " + M.formatDate(row.createdAt) + (row.createdFrom ? " from " + row.createdFrom : "") + " · expires " + M.formatDate(row.expiresAt);
      pendingList.appendChild(el("li", { class: "item", "data-id": row.id }, [
        el("div", { class: "item-main" }, [el("span", { class: "item-name", text: "Unused code" }), el("p", { class: "meta", text: meta })]),
        revokeButton(row, "Revoke the unused code created " + M.formatDate(row.createdAt)),
      ]));
    });
  }

  function renderLines(rows) {
    linesList.textContent = "";
    if (rows.length === 0) {
      linesList.appendChild(el("li", { class: "empty", text: "No command line is signed in as you." }));
      return;
    }
    rows.forEach(function (row) {
      var name = row.client || "Command line";
      var meta = "Signed in " + M.formatDate(row.usedAt) + (row.usedFrom ? " from " + row.usedFrom : "") + " · Last used " + M.formatDate(row.lastUsedAt || row.usedAt);
      linesList.appendChild(el("li", { class: "item", "data-id": row.id }, [
        el("div", { class: "item-main" }, [el("span", { class: "item-name", text: name }), el("p", { class: "meta", text: meta })]),
        revokeButton(row, "Sign out " + name + " signed in " + M.formatDate(row.usedAt)),
      ]));
    });
  }

  async function load() {
    linesList.setAttribute("aria-busy", "true");
    try {
      var data = await M.api("GET", "api/me/cli-codes");
      renderLines((data && data.commandLines) || []);
      renderPending(data ? data.pending : null);
    } catch (error) {
      linesList.textContent = "";
      linesList.appendChild(el("li", { class: "empty", text: "The command lines could not be loaded." }));
      M.reportError(error, "The command lines could not be loaded: ");
    } finally {
      linesList.setAttribute("aria-busy", "false");
    }
  }

  async function create() {
    createButton.disabled = true;
    try {
      var created = await M.api("POST", "api/me/cli-codes", {});
      commandText.textContent = created.command;
      codeInput.value = created.code;
      codeExpiry.textContent = M.formatDate(created.expiresAt);
      shown.hidden = false;
      page.setStatus("Your one-time code is ready. It is shown only now: paste it into airflowctl within 5 minutes.", "success");
      await load();
      M.focusLater(codeInput);
      codeInput.select();
    } catch (error) {
      M.reportError(error, "No code was created: ");
    } finally {
      createButton.disabled = false;
    }
  }

  async function revoke(id) {
    var confirmed = await M.confirmAction({
      title: "Revoke?",
      message: "An unused code stops working at once; a command line signed in with it is signed out on its next request.",
      confirmLabel: "Revoke",
    });
    if (!confirmed) return;
    try {
      await M.api("DELETE", "api/me/cli-codes/" + encodeURIComponent(id), {});
      await load();
      page.setStatus("Revoked.", "success");
      M.focusLater(title);
    } catch (error) {
      M.reportError(error, "Not revoked: ");
    }
  }

  function onListClick(event) {
    var button = event.target.closest("button[data-action='revoke-cli']");
    if (button) revoke(button.getAttribute("data-id"));
  }

  copyButton.addEventListener("click", function () {
    codeInput.select();
    if (navigator.clipboard) navigator.clipboard.writeText(codeInput.value).then(function () { page.setStatus("Code copied.", "success"); });
  });
  createButton.addEventListener("click", create);
  pendingList.addEventListener("click", onListClick);
  linesList.addEventListener("click", onListClick);
  load();
})();
