/* "Agents acting for you": the delegations the person approved, and revoking them. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var el = M.el;
  var list = M.byId("delegation-list");
  var title = M.byId("agents-title");

  function stateText(row) {
    if (row.state === "live") return "Active until " + M.formatDate(row.expiresAt);
    if (row.state === "revoked") return "Revoked " + M.formatDate(row.revokedAt);
    if (row.state === "expired") return "Expired " + M.formatDate(row.expiresAt);
    return "Ended" + (row.endedBecause ? " (" + String(row.endedBecause).replace(/_/g, " ") + ")" : "");
  }

  function render(rows) {
    list.textContent = "";
    if (rows === null) {
      // Only the person's own token reads delegations: confirming with the passkey opens the list.
      list.appendChild(el("li", { class: "empty" }, [
        el("button", { type: "button", class: "secondary", "data-action": "show-delegations", text: "Show agents acting for you" }),
      ]));
      return;
    }
    if (rows.length === 0) {
      list.appendChild(el("li", { class: "empty", text: "No agent acts for you." }));
      return;
    }
    rows.forEach(function (row) {
      var name = row.agentName || row.agentClientId || "Agent";
      var meta = "May: " + (row.scope || "") + " · " + stateText(row);
      var actions = row.state === "live"
        ? [el("button", { type: "button", class: "danger", "data-action": "revoke-delegation", "data-id": row.id, "aria-label": "Revoke " + name, text: "Revoke" })]
        : [];
      list.appendChild(el("li", { class: "item", "data-id": row.id }, [
        el("div", { class: "item-main" }, [el("span", { class: "item-name", text: name }), el("p", { class: "meta", text: meta })]),
        el("div", { class: "item-actions" }, actions),
      ]));
    });
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      var data = await M.api("GET", "api/me/delegations");
      render(data ? data.delegations : null);
    } catch (error) {
      list.textContent = "";
      list.appendChild(el("li", { class: "empty", text: "The agents could not be loaded." }));
      M.reportError(error, "The agents could not be loaded: ");
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  async function revoke(id) {
    var confirmed = await M.confirmAction({
      title: "Revoke this agent?",
      message: "It stops acting for you on its next request, and so do agents it shared its access with.",
      confirmLabel: "Revoke",
    });
    if (!confirmed) return;
    try {
      await M.api("DELETE", "api/me/delegations/" + encodeURIComponent(id), {});
      await load();
      page.setStatus("Revoked.", "success");
      M.focusLater(title);
    } catch (error) {
      M.reportError(error, "Not revoked: ");
    }
  }

  async function show() {
    try {
      await M.stepUp();
      await load();
    } catch (error) {
      M.reportError(error, "The agents could not be shown: ");
    }
  }

  window.WebAuthnDelegations = { load: load };

  list.addEventListener("click", function (event) {
    if (event.target.closest("button[data-action='show-delegations']")) {
      show();
      return;
    }
    var button = event.target.closest("button[data-action='revoke-delegation']");
    if (button) revoke(button.getAttribute("data-id"));
  });
  load();
})();
