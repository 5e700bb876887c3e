/* "Let an agent act for you": choose an agent, the DAGs and actions and the days; confirm with the passkey; the
   agent's first refresh token is shown once, to hand to the agent. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var $ = M.byId;
  var form = $("grant-form");
  if (!form) return; // a person without a role sees only the explanation
  var openButton = $("open-grant");
  var agentSelect = $("grant-agent");
  var shown = $("grant-shown");

  async function open() {
    openButton.disabled = true;
    try {
      // Only the person's own, passkey-confirmed token lists the agents (names and client ids only).
      var agents = (await M.api("GET", "api/me/delegations/agents")) || [];
      agentSelect.textContent = "";
      if (agents.length === 0) {
        page.setStatus("No agent is registered yet: ask an Airflow administrator to register one.", "info");
        return;
      }
      agents.forEach(function (agent) {
        agentSelect.appendChild(M.el("option", { value: agent.clientId, text: agent.name + " (" + agent.clientId + ")" }));
      });
      form.hidden = false;
      openButton.hidden = true;
      M.focusLater(agentSelect);
      // Confirmed now: the list of agents acting for the person opens too.
      if (window.WebAuthnDelegations) window.WebAuthnDelegations.load();
    } catch (error) {
      M.reportError(error, "The agents could not be loaded: ");
    } finally {
      openButton.disabled = false;
    }
  }

  async function grant(event) {
    event.preventDefault();
    var scope = $("grant-scope").value.split(/\s+/).filter(function (item) { return item.length > 0; });
    if (scope.length === 0) {
      page.setStatus("Enter at least one line such as dag:trigger:id=finance_*.", "error");
      M.focusLater($("grant-scope"));
      return;
    }
    var body = { agent: agentSelect.value, scope: scope.join(" ") };
    var days = $("grant-days").value.trim();
    if (days) body.days = Number(days);
    var name = agentSelect.options[agentSelect.selectedIndex] ? agentSelect.options[agentSelect.selectedIndex].text : body.agent;
    var submit = $("grant-submit");
    submit.disabled = true;
    try {
      // A grant needs a fresh passkey confirmation: when it is older, the service's 401 asks for it again.
      var granted = await M.api("POST", "api/me/delegations", body);
      $("grant-shown-agent").textContent = name;
      $("grant-shown-ends").textContent = M.formatDate(granted.delegation && granted.delegation.expiresAt);
      $("grant-refresh-token").value = granted.refreshToken || "";
      shown.hidden = false;
      form.reset();
      form.hidden = true;
      openButton.hidden = false;
      page.setStatus("The agent may act for you. Copy its refresh token now: it is shown only once.", "success");
      if (window.WebAuthnDelegations) await window.WebAuthnDelegations.load();
      M.focusLater($("grant-refresh-token"));
      $("grant-refresh-token").select();
    } catch (error) {
      M.reportError(error, "The agent was not allowed: ");
    } finally {
      submit.disabled = false;
    }
  }

  openButton.addEventListener("click", open);
  form.addEventListener("submit", grant);
  $("copy-grant-token").addEventListener("click", function () { M.copyField($("grant-refresh-token"), "Refresh token"); });
})();
