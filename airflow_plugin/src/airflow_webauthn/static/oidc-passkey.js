/* The passkey step after the identity provider: confirm with a passkey, or set one up the first time. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var button = document.getElementById("passkey-step");
  var lead = document.getElementById("lead");
  var step = null; // {action, options} from the service

  function failed(error) {
    button.disabled = false;
    if (error instanceof page.ApiError) {
      if (error.status === 503) return page.setStatus(error.message || page.SERVICE_UNAVAILABLE, "error");
      // The waiting sign-in is spent after a refused passkey: start again at the identity provider.
      return page.setStatus((error.message || "The passkey was not accepted.") + " Sign in again.", "error");
    }
    page.setStatus(page.describeWebAuthnError(error, step && step.action === "enroll" ? "registration" : "authentication"), "error");
  }

  async function load() {
    try {
      step = await page.postJSON("oidc/passkey/options", {});
    } catch (error) {
      return failed(error);
    }
    if (step.action === "enroll") {
      button.textContent = "Set up a passkey";
      lead.textContent = "Your identity provider signed you in. To finish, set up a passkey on this device: " +
        "you will use it every time you sign in to Airflow.";
    }
    button.disabled = false;
  }

  async function run() {
    var browser = page.browser();
    button.disabled = true;
    try {
      page.setStatus("Follow your browser's prompt…", "info");
      var response = step.action === "enroll"
        ? await browser.startRegistration({ optionsJSON: step.options })
        : await browser.startAuthentication({ optionsJSON: step.options });
      page.setStatus("Checking your passkey…", "info");
      var result = await page.postJSON("oidc/passkey/verify", { action: step.action, response: response });
      page.setStatus("Signed in. Opening Airflow…", "success");
      window.location.assign(result.redirect);
    } catch (error) {
      failed(error);
    }
  }

  button.addEventListener("click", function () { run(); });
  if (!page.passkeyBrowser(button, "to sign in")) return;
  load();
})();
