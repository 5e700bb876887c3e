/* The signed-in person's passkeys: list, rename, remove, add. Every change asks to confirm it's you first. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var el = M.el;
  var list = M.byId("passkey-list");
  var addButton = M.byId("add-passkey");
  var listTitle = M.byId("list-title");
  var renameDialog = M.byId("rename-dialog");
  var renameForm = M.byId("rename-form");
  var renameInput = M.byId("rename-input");
  var renameCancel = M.byId("rename-cancel");
  var passkeys = [];
  // Set by the page for admins: a blocked passkey then shows the break-glass command (README, "Blocked passkeys").
  var showBreakGlass = list.getAttribute("data-break-glass") === "true";

  function nameOf(passkey) {
    return passkey.label || passkey.authenticator || "Passkey";
  }

  function isSynced(passkey) {
    return passkey.backedUp === true || passkey.deviceType === "multiDevice";
  }

  function badge(text, kind) {
    return el("span", { class: "badge" + (kind ? " badge-" + kind : ""), text: text });
  }

  function renderItem(passkey) {
    var name = nameOf(passkey);
    var badges = [badge(isSynced(passkey) ? "Synced" : "This device only")];
    if (passkey.current) badges.push(badge("Used for this session", "info"));
    var blocked = passkey.flaggedAt && !passkey.revokedAt;
    if (blocked) badges.push(badge("Blocked — ask an administrator to review", "warning"));
    if (passkey.revokedAt) badges.push(badge("Removed " + M.formatDate(passkey.revokedAt), "muted"));
    var disallowed = passkey.notAllowedAfter && !passkey.revokedAt && !blocked;
    if (disallowed) badges.push(badge("Not allowed for your role after " + M.formatDate(passkey.notAllowedAfter), "warning"));
    var meta = "Added " + M.formatDate(passkey.createdAt) + " · Last used " + M.formatDate(passkey.lastUsedAt, "never");
    if (passkey.authenticator && passkey.authenticator !== name) meta += " · " + passkey.authenticator;
    var details = [el("p", { class: "meta", text: meta })];
    if (blocked) {
      details.push(el("p", { class: "meta", text: M.flagText(passkey) + " It cannot sign in until an administrator unblocks it." }));
    }
    if (blocked && showBreakGlass) details.push(breakGlass(passkey));
    if (disallowed) {
      details.push(el("p", { class: "meta", text: M.policyText(passkey) }));
    }
    var actions = passkey.revokedAt
      ? null
      : el("div", { class: "item-actions" }, [
          el("button", { type: "button", class: "secondary", "data-action": "rename", "data-id": passkey.id, "aria-label": "Rename " + name, text: "Rename" }),
          el("button", { type: "button", class: "danger", "data-action": "remove", "data-id": passkey.id, "aria-label": "Remove " + name, text: "Remove" }),
        ]);
    return el("li", { class: "item" + (passkey.revokedAt ? " revoked" : blocked ? " flagged" : ""), "data-id": passkey.id }, [
      el("div", { class: "item-main" }, [
        el("span", { class: "item-name", text: name }),
        el("span", { class: "badges" }, badges),
      ].concat(details)),
      actions,
    ]);
  }

  /* For admins: how to unblock it when no other admin can (their only passkey blocked, say): on the service's host. */
  function breakGlass(passkey) {
    return el("p", { class: "hint break-glass" }, [
      el("span", { text: "Administrators: after reviewing why, unblock it under Passkey administration, or, when no administrator can sign in, on the auth service's host: " }),
      el("code", { text: "npm run -s cli -- passkeys unflag " + passkey.id }),
    ]);
  }

  function render() {
    list.textContent = "";
    var active = passkeys.filter(function (p) { return !p.revokedAt; });
    var removed = passkeys.filter(function (p) { return p.revokedAt; });
    if (active.length === 0) {
      list.appendChild(el("li", { class: "empty", text: "You have no passkeys yet. Add one to sign in with it." }));
    }
    active.concat(removed).forEach(function (passkey) { list.appendChild(renderItem(passkey)); });
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      var data = await M.api("GET", "api/me/passkeys");
      passkeys = (data && data.passkeys) || [];
      render();
    } catch (error) {
      list.textContent = "";
      list.appendChild(el("li", { class: "empty", text: "Your passkeys could not be loaded." }));
      M.reportError(error, "Your passkeys could not be loaded: ");
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function buttonFor(id, action) {
    var buttons = list.querySelectorAll("button[data-action='" + action + "']");
    for (var i = 0; i < buttons.length; i += 1) {
      if (buttons[i].getAttribute("data-id") === id) return buttons[i];
    }
    return null;
  }

  function find(id) {
    return passkeys.filter(function (p) { return p.id === id; })[0];
  }

  // ---- rename ----

  function askNewName(passkey) {
    var returnFocus = document.activeElement;
    renameInput.value = passkey.label || "";
    return new Promise(function (resolve) {
      function finish(value) {
        renameForm.removeEventListener("submit", onSubmit);
        renameCancel.removeEventListener("click", onCancel);
        renameDialog.removeEventListener("cancel", onEscape);
        renameInput.setCustomValidity("");
        if (renameDialog.open) renameDialog.close();
        if (value === null) M.focusLater(returnFocus);
        resolve(value);
      }
      function onSubmit(event) {
        event.preventDefault();
        var value = renameInput.value.trim();
        if (!value) {
          renameInput.setCustomValidity("Enter a name for this passkey.");
          renameInput.reportValidity();
          return;
        }
        finish(value);
      }
      function onCancel() { finish(null); }
      function onEscape(event) { event.preventDefault(); finish(null); }
      renameInput.addEventListener("input", function () { renameInput.setCustomValidity(""); }, { once: true });
      renameForm.addEventListener("submit", onSubmit);
      renameCancel.addEventListener("click", onCancel);
      renameDialog.addEventListener("cancel", onEscape);
      renameDialog.showModal();
      renameInput.focus();
      renameInput.select();
    });
  }

  async function rename(passkey) {
    var label = await askNewName(passkey);
    if (label === null || label === passkey.label) return;
    try {
      await M.api("PATCH", "api/me/passkeys/" + encodeURIComponent(passkey.id), { label: label });
      await load();
      page.setStatus("Renamed “" + nameOf(passkey) + "” to “" + label + "”.", "success");
      M.focusLater(buttonFor(passkey.id, "rename"));
    } catch (error) {
      M.reportError(error, "The passkey was not renamed: ");
    }
  }

  // ---- remove ----

  async function remove(passkey) {
    var name = nameOf(passkey);
    var confirmed = await M.confirmAction({
      title: "Remove “" + name + "”?",
      message: "You will no longer be able to sign in with this passkey. Your other passkeys keep working.",
      confirmLabel: "Remove passkey",
    });
    if (!confirmed) return;
    try {
      await M.api("DELETE", "api/me/passkeys/" + encodeURIComponent(passkey.id), {});
      await load();
      page.setStatus("Removed “" + name + "”.", "success");
      M.focusLater(listTitle);
    } catch (error) {
      M.reportError(error, "“" + name + "” was not removed: ");
      M.focusLater(buttonFor(passkey.id, "remove"));
    }
  }

  // ---- add ----

  async function add() {
    var browser = page.browser();
    addButton.disabled = true;
    try {
      var options = await M.api("POST", "api/me/passkeys/registration/options", {});
      page.setStatus("Follow your browser's prompt to create the passkey…", "info");
      var attestation;
      try {
        attestation = await browser.startRegistration({ optionsJSON: options });
      } catch (ceremonyError) {
        if (ceremonyError && (ceremonyError.name === "InvalidStateError" || ceremonyError.code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED")) {
          page.setStatus("This device or security key already holds one of your passkeys. Use another one.", "error");
        } else {
          page.setStatus(page.describeWebAuthnError(ceremonyError, "registration"), "error");
        }
        return;
      }
      page.setStatus("Saving your passkey…", "info");
      var saved = await M.api("POST", "api/me/passkeys/registration/verify", { response: attestation });
      await load();
      page.setStatus("Added “" + ((saved && saved.label) || "your new passkey") + "”. You can rename it.", "success");
      M.focusLater((saved && saved.id && buttonFor(saved.id, "rename")) || addButton);
    } catch (error) {
      M.reportError(error, "The passkey was not added: ");
    } finally {
      addButton.disabled = false;
    }
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var passkey = find(button.getAttribute("data-id"));
    if (!passkey) return;
    if (button.getAttribute("data-action") === "rename") rename(passkey);
    else remove(passkey);
  });
  addButton.addEventListener("click", add);

  page.passkeyBrowser(addButton, "to manage them");
  load();
})();
