/* Administration page, agents acting for people: the live delegations, or one person's or one agent's (ended
   ones too), and revoking one (the agent and its sub-agents are refused at Airflow's next re-check). */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var $ = M.byId;
  var T = window.WebAuthnAdminTables;
  var COLUMNS = 8;
  var delegations = [];

  function filters() {
    return { user: $("delegations-user").value.trim(), agent: $("delegations-agent").value.trim() };
  }

  function stateText(row) {
    if (row.state === "live") return "Live";
    if (row.state === "revoked") return "Revoked " + M.formatDate(row.revokedAt);
    if (row.state === "expired") return "Expired";
    return "Ended" + (row.endedBecause ? " (" + String(row.endedBecause).replace(/_/g, " ") + ")" : "");
  }

  function agentText(row) {
    return (row.agentName || row.agentClientId) + (row.depth > 1 ? " (sub-agent)" : "");
  }

  /** Both filters: the service narrows by the person, the page then keeps that agent's rows. */
  function matchesAgent(row, agent) {
    return !agent || row.agentName === agent || row.agentClientId === agent;
  }

  async function load() {
    var isNewest = T.newest("delegations");
    var query = filters();
    var params = new URLSearchParams();
    if (query.user) params.set("user", query.user);
    else if (query.agent) params.set("agent", query.agent);
    $("delegations-summary").textContent = "Loading delegations…";
    var loaded = (await M.api("GET", "api/admin/delegations" + (params.toString() ? "?" + params : ""))) || [];
    if (!isNewest()) return;
    delegations = loaded.filter(function (row) { return matchesAgent(row, query.agent); });
    T.fill("delegations-table", delegations.map(function (row) {
      var label = agentText(row) + " for " + row.username;
      return M.el("tr", { "data-delegation": row.id }, T.cells([
        row.username,
        agentText(row),
        M.el("code", { text: row.scope }),
        M.formatDate(row.createdAt),
        M.formatDate(row.expiresAt),
        // When the agent last refreshed its token under it: the last sign of use the service keeps.
        M.formatDate(row.lastRefreshedAt, "Never"),
        stateText(row),
        row.state === "live" ? T.actionButton("Revoke", "Revoke " + label, "revoke-delegation", row.id, "danger") : "",
      ]));
    }), query.user || query.agent ? "No delegation matches." : "No agent acts for anyone.", COLUMNS);
    var of = [query.user ? "of " + query.user : "", query.agent ? "to agent " + query.agent : ""].filter(Boolean);
    $("delegations-summary").textContent = "Showing " + delegations.length + (of.length ? "" : " live") + " delegation" +
      (delegations.length === 1 ? "" : "s") + (of.length ? " " + of.join(" ") : "") + ".";
  }

  async function revoke(row) {
    var label = agentText(row) + " for " + row.username;
    var confirmed = await M.confirmAction({
      title: "Revoke " + label + "?",
      message: "The agent (and any sub-agent it shared this access with) stops acting for " + row.username +
        " at Airflow's next re-check. " + row.username + " can approve it again later.",
      confirmLabel: "Revoke delegation",
    });
    if (!confirmed) return;
    try {
      await M.api("DELETE", "api/admin/delegations/" + encodeURIComponent(row.id), {});
      await load();
      page.setStatus("Revoked: " + label + ".", "success");
      M.focusLater($("delegations-title"));
    } catch (error) {
      M.reportError(error, label + " was not revoked: ");
    }
  }

  $("delegations-form").addEventListener("submit", function (event) {
    event.preventDefault();
    load().catch(function (error) {
      $("delegations-summary").textContent = "";
      M.reportError(error, "Delegations could not be loaded: ");
    });
  });
  $("delegations-table").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action='revoke-delegation']");
    if (!button) return;
    var row = T.byIdIn(delegations, button.getAttribute("data-id"));
    if (row) revoke(row);
  });

  T.addPanel("Delegations", load);
})();
