/* Administration page, service accounts panel: create, disable or enable, issue a new secret. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var el = M.el;
  var $ = M.byId;
  var T = window.WebAuthnAdminTables;

  var accounts = [];
  // Airflow's own service account (its service_credentials): disabling it or rotating its secret cuts Airflow off.
  var airflowClientId = document.querySelector("main").getAttribute("data-airflow-client-id") || "";
  var AIRFLOW_CONSEQUENCE = "This is the account Airflow itself uses to check sessions with the sign-in service. ";

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
        account.agent ? "Agent" : "Service account",
        (account.groups || []).join(", ") || "—",
        account.disabled ? "Disabled" : "Active",
        el("span", { class: "row-actions" }, [
          account.disabled
            ? T.actionButton("Enable", "Enable " + name, "enable-account", account.id)
            : T.actionButton("Disable", "Disable " + name, "disable-account", account.id, "danger"),
          T.actionButton("New secret", "Rotate secret of " + name, "rotate-secret", account.id),
        ]),
      ]));
    }), "No service accounts yet.", 6);
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
    var name = M.requiredValue($("sa-name"), "Enter a name for the service account.");
    if (!name) return;
    var body = { name: name };
    var groups = M.splitList($("sa-groups").value);
    if (groups.length) body.groups = groups;
    if ($("sa-agent").checked) body.agent = true;
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

  $("copy-sa-secret").addEventListener("click", function () { M.copyField($("sa-client-secret"), "Client secret"); });
  $("service-account-form").addEventListener("submit", createServiceAccount);
  $("service-accounts-table").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var account = T.byIdIn(accounts, button.getAttribute("data-id"));
    if (account) accountAction(account, button.getAttribute("data-action"));
  });

  T.addPanel("Service accounts", loadServiceAccounts);
})();
