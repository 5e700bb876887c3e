/* Passkey sign-in: conditional UI (autofill) when the browser offers it, and an explicit button. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var form = document.getElementById("login-form");
  var usernameInput = document.getElementById("username");
  var button = document.getElementById("sign-in");
  var nextUrl = new URLSearchParams(window.location.search).get("next");
  var providerLink = document.getElementById("oidc-sign-in");
  if (providerLink && nextUrl) {
    // next travels through the provider round trip; /auth/oidc/login keeps it only if it stays on Airflow.
    providerLink.href = "oidc/login?next=" + encodeURIComponent(nextUrl);
  }

  function describeApiError(error, step, username) {
    if (error.status === 0) return error.message;
    if (error.status === 503) return error.message || page.SERVICE_UNAVAILABLE;
    if (error.code === "no_role") return error.message;
    if (step === "options") {
      if (username && (error.status === 404 || error.status === 400)) {
        return "No passkey is registered for “" + username + "”. Check the username, or ask an " +
          "administrator for an enrollment invite.";
      }
      return "Sign-in could not start: " + (error.message || "the request was refused") + ".";
    }
    // The passkey itself was fine (its signature checked out): say what stands in the way instead.
    if (error.code === "account_disabled") {
      return "This account is disabled. Ask an administrator to enable it, then sign in again.";
    }
    if (error.code === "passkey_revoked") {
      return "This passkey was revoked. Sign in with another passkey, or ask an administrator for an enrollment invite.";
    }
    if (error.code === "passkey_flagged") {
      return "This passkey was blocked after a security check. Sign in with another passkey, or ask an " +
        "administrator to review it.";
    }
    if (error.code === "authenticator_policy") {
      return "This passkey is no longer allowed for your role. Sign in with an allowed passkey, or ask an " +
        "administrator for a re-enrollment invite. " + (error.message ? "Details: " + error.message : "");
    }
    if (error.status >= 400 && error.status < 500) {
      return "That passkey was not accepted (it may be unknown to Airflow or revoked). " +
        (error.message ? "Details: " + error.message : "");
    }
    return "Sign-in failed. Please try again.";
  }

  /** One sign-in attempt. With autofill, it waits until the user picks a passkey in the username field. */
  async function signIn(useAutofill) {
    var browser = page.browser();
    var username = useAutofill ? "" : usernameInput.value.trim();
    var step = "options";
    try {
      var options = await page.postJSON(
        "webauthn/authentication/options",
        username ? { username: username } : {}
      );
      step = "ceremony";
      if (!useAutofill) page.setStatus("Follow your browser's prompt to use your passkey…", "info");
      var assertion = await browser.startAuthentication({ optionsJSON: options, useBrowserAutofill: useAutofill });
      step = "verify";
      button.disabled = true;
      page.setStatus("Checking your passkey…", "info");
      var result = await page.postJSON("webauthn/authentication/verify", {
        response: assertion,
        next: nextUrl || undefined,
      });
      if (result.notice) {
        // A passkey in its grace period under the authenticator policy: tell the person before Airflow opens.
        page.setStatus(result.notice + " Opening Airflow…", "info");
        await new Promise(function (resolve) { setTimeout(resolve, 6000); });
      } else {
        page.setStatus("Signed in. Opening Airflow…", "success");
      }
      window.location.assign(result.redirect);
    } catch (error) {
      if (useAutofill && step === "ceremony" && error && error.name === "AbortError") {
        return; // the button started its own ceremony, which cancels the autofill one
      }
      button.disabled = false;
      if (error instanceof page.ApiError) {
        page.setStatus(describeApiError(error, step, username), "error");
      } else {
        page.setStatus(page.describeWebAuthnError(error, "authentication"), "error");
      }
      if (!useAutofill) startAutofill(); // keep autofill available after a failed attempt
    }
  }

  async function startAutofill() {
    var browser = page.browser();
    if (browser && (await browser.browserSupportsWebAuthnAutofill())) {
      signIn(true);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    signIn(false);
  });

  if (page.passkeyBrowser(button, "to sign in")) startAutofill();
})();
