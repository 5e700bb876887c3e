/* Passkey enrollment from an invite link: /auth/enroll?invite=<token>. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var form = document.getElementById("enroll-form");
  var labelInput = document.getElementById("label");
  var button = document.getElementById("create-passkey");
  var done = document.getElementById("done");
  var invite = takeInviteFromUrl();
  // The server checked the link when it rendered the page; an unusable link gets no form, only the reason.
  if (!form) return;

  /* The invite is a bearer secret: once this page holds it in memory, take it out of the address bar
     so it does not stay in the browser history, bookmarks, or the Referer of anything opened later.
     It lives only in this page's memory from then on. */
  function takeInviteFromUrl() {
    var params = new URLSearchParams(window.location.search);
    var value = params.get("invite");
    if (value !== null) {
      params.delete("invite");
      var query = params.toString();
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
    }
    return value;
  }

  var INVITE_UNUSABLE = "This invite link can no longer be used: it has expired, was already used, or was revoked. " +
    "Ask an administrator for a new invite.";

  /* One sentence per failure, saying what happened and what to do next (never the same thing twice). */
  function describeApiError(error, step) {
    if (error.status === 0) return error.message;
    if (error.status === 503) return error.message || page.SERVICE_UNAVAILABLE;
    // The service answers 400 invalid_invite for an unknown, expired, used or revoked invite (it does not say
    // which to outsiders); the person's next step is the same in every case.
    if (error.code === "invalid_invite" || (step === "options" && error.status === 400)) return INVITE_UNUSABLE;
    if (step === "options") return error.message || INVITE_UNUSABLE;
    var reason = (error.message || "").replace(/\.\s*$/, "");
    return reason ? "The passkey was not saved: " + reason + ". Try again." : "The passkey was not saved. Try again.";
  }

  async function enroll() {
    var browser = page.browser();
    var step = "options";
    button.disabled = true;
    try {
      page.setStatus("Preparing…", "info");
      var options = await page.postJSON("webauthn/registration/options", { inviteToken: invite });
      step = "ceremony";
      page.setStatus("Follow your browser's prompt to create the passkey…", "info");
      var attestation = await browser.startRegistration({ optionsJSON: options });
      step = "verify";
      page.setStatus("Saving your passkey…", "info");
      var label = labelInput.value.trim();
      await page.postJSON(
        "webauthn/registration/verify",
        label ? { response: attestation, label: label } : { response: attestation }
      );
      form.hidden = true;
      // The link is used up now: its "works once, until …" no longer applies.
      var inviteAccount = document.getElementById("invite-account");
      if (inviteAccount) inviteAccount.hidden = true;
      page.setStatus("Passkey saved — sign in with it now.", "success");
      done.hidden = false;
      document.getElementById("sign-in-link").focus();
    } catch (error) {
      button.disabled = false;
      if (error instanceof page.ApiError) {
        page.setStatus(describeApiError(error, step), "error");
      } else {
        page.setStatus(page.describeWebAuthnError(error, "registration"), "error");
      }
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    enroll();
  });

  page.passkeyBrowser(button, "to enroll");
})();
