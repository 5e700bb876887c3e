/* The device approval page (RFC 8628): look a code up, show who asks for what, then Approve or Deny. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var form = M.byId("code-form");
  if (!form) return; // a person without a role sees only the explanation
  var input = M.byId("user-code");
  var requestSection = M.byId("device-request");
  var doneSection = M.byId("device-done");
  var approveButton = M.byId("approve");
  var denyButton = M.byId("deny");
  var current = null;

  var STATE_TEXT = {
    approved: "This code was already approved. A code works once: start the sign-in again on your terminal.",
    denied: "This code was denied. Start the sign-in again on your terminal.",
    expired: "This code has expired (codes last 10 minutes). Start the sign-in again on your terminal.",
  };

  function describe(error) {
    if (error instanceof page.ApiError && error.status === 404) {
      return "There is no such code. Check it against your terminal (it may also have expired).";
    }
    if (error instanceof page.ApiError && error.status === 429) {
      return "Too many attempts. Wait a few minutes before you try another code.";
    }
    return M.describeApiError ? M.describeApiError(error) : String(error);
  }

  var daysInput = M.byId("req-days");
  var DAY_MS = 86400000;

  /** The days typed, if a whole number from 1 to the most the service allows; else null. */
  function chosenDays() {
    var days = Number(daysInput.value);
    var max = Number(daysInput.max);
    return Number.isInteger(days) && days >= 1 && days <= max ? days : null;
  }

  /** An agent's request states how long it lasts: the person chooses the days, the page says the end. */
  function showDuration(view) {
    var agent = view.kind === "agent" && view.maxDays;
    M.byId("req-duration-row").hidden = !agent;
    M.byId("req-ends-row").hidden = !agent;
    if (!agent) return;
    daysInput.max = String(view.maxDays);
    daysInput.value = String(view.days || view.maxDays);
    daysInput.disabled = view.state !== "pending";
    M.byId("req-max-days").textContent = String(view.maxDays);
    updateEnd();
  }

  function updateEnd() {
    var days = chosenDays();
    M.byId("req-ends").textContent = days === null
      ? "Choose from 1 to " + daysInput.max + " days."
      : M.formatDate(new Date(Date.now() + days * DAY_MS).toISOString());
  }

  function show(view) {
    current = view;
    M.byId("req-code").textContent = view.userCode || "";
    M.byId("req-client").textContent = view.clientName || view.clientId || "";
    M.byId("req-kind").textContent = view.kind === "agent" ? "An agent" : "A command line";
    M.byId("req-access").textContent = view.access || "";
    M.byId("req-from").textContent = (view.requestedFrom || "unknown address") + (view.userAgent ? " · " + view.userAgent : "");
    M.byId("req-at").textContent = M.formatDate(view.requestedAt);
    M.byId("req-expires").textContent = M.formatDate(view.expiresAt);
    showDuration(view);
    requestSection.hidden = false;
    doneSection.hidden = true;
    var pending = view.state === "pending";
    M.byId("decision").hidden = !pending;
    if (pending) {
      page.setStatus("Check the request. Approve only a request you started yourself, just now.", "info");
      M.focusLater(M.byId("request-title"));
    } else {
      page.setStatus(STATE_TEXT[view.state] || "This code can no longer be used.", "error");
    }
  }

  function finish(title, text) {
    requestSection.hidden = true;
    form.hidden = true;
    M.byId("done-title").textContent = title;
    M.byId("done-text").textContent = text;
    doneSection.hidden = false;
    M.focusLater(M.byId("done-title"));
  }

  async function lookup(event) {
    if (event) event.preventDefault();
    var code = input.value.trim();
    if (!code) {
      page.setStatus("Enter the code your terminal shows.", "error");
      return;
    }
    requestSection.hidden = true;
    try {
      show(await M.api("GET", "device/requests/" + encodeURIComponent(code)));
    } catch (error) {
      if (!(error && error.handled)) page.setStatus(describe(error), "error");
    }
  }

  async function decide(action) {
    if (!current) return;
    var agent = current.kind === "agent";
    var body = {};
    if (action === "approve" && agent) {
      body.days = chosenDays();
      if (body.days === null) {
        page.setStatus("Choose for how many days the agent may act for you: 1 to " + daysInput.max + ".", "error");
        M.focusLater(daysInput);
        return;
      }
    }
    approveButton.disabled = true;
    denyButton.disabled = true;
    try {
      var decided = await M.api("POST", "device/requests/" + encodeURIComponent(current.userCode) + "/" + action, body);
      if (action === "approve" && agent) {
        page.setStatus("Approved.", "success");
        finish("Done — " + (current.clientName || "the agent") + " may act for you",
          "Only on what you approved, for " + decided.days + " days: until " +
          M.formatDate(new Date(Date.now() + decided.days * DAY_MS).toISOString()) +
          ". You can revoke it any time under “Agents acting for you” on your Passkeys page.");
      } else if (action === "approve") {
        page.setStatus("Approved.", "success");
        finish("Done — return to your terminal", "The command line is signed in as you. You can close this page.");
      } else {
        page.setStatus("Denied.", "success");
        finish("Denied", (agent ? "The agent" : "The command line") + " was refused and gets no access. You can close this page.");
      }
    } catch (error) {
      if (!(error && error.handled)) page.setStatus((action === "approve" ? "Not approved: " : "Not denied: ") + describe(error), "error");
    } finally {
      approveButton.disabled = false;
      denyButton.disabled = false;
    }
  }

  form.addEventListener("submit", lookup);
  daysInput.addEventListener("input", updateEnd);
  approveButton.addEventListener("click", function () { decide("approve"); });
  denyButton.addEventListener("click", function () { decide("deny"); });
  if (input.value) M.focusLater(M.byId("lookup"));
  else M.focusLater(input);
})();
