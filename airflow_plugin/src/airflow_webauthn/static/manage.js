/* Shared by the passkeys and administration pages: step-up ("confirm it's you"), dialogs, small DOM helpers. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;

  function byId(id) {
    return document.getElementById(id);
  }

  /** Build an element; text is always set as text (never HTML), so nothing from the API can inject markup. */
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === undefined || value === null || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "hidden") node.hidden = true;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /**
   * One convention on every page, the enrollment page's: UTC to the minute, zone shown ("2026-12-07 14:05 UTC"),
   * so times read the same to every admin and match the service's logs and audit export.
   */
  function formatDate(iso, empty) {
    if (!iso) return empty || "—";
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  /* Why a security check blocked a passkey, in words people can act on (the service's reason codes). */
  var FLAG_REASONS = {
    counter_regression: "its signature counter went backwards, which can mean the passkey was copied to another device",
  };

  /* Why the authenticator policy no longer allows a passkey for its owner's role (the service's reason codes). */
  var POLICY_REASONS = {
    synced_passkey: "your role needs a security key registered on one device; synced passkeys are not allowed",
    model_not_allowed: "your role needs an approved security key model",
    attestation_missing: "your role needs a security key that proves its model",
    certification_level: "your role needs a security key with a higher FIDO certification",
    user_verification: "your role needs a passkey that verifies you (PIN or biometrics)",
  };

  /** "<why>. Add a passkey your role allows before <date>." for a passkey in its grace period. */
  function policyText(passkey) {
    var why = POLICY_REASONS[passkey.policyReason] || "your role's authenticator policy does not allow it";
    return "Why: " + why + ". Add a passkey your role allows before " + formatDate(passkey.notAllowedAfter) +
      "; after that this one no longer signs you in.";
  }

  /** "Blocked <when>: <why>." for a flagged passkey (the administration page and the Passkeys page say it alike). */
  function flagText(passkey) {
    var why = FLAG_REASONS[passkey.flagReason] || (passkey.flagReason ? "reason: " + passkey.flagReason.replace(/_/g, " ") : "no reason recorded");
    return "Blocked " + formatDate(passkey.flaggedAt) + ": " + why + ".";
  }

  /** "a, b ,c" → ["a", "b", "c"] */
  function splitList(text) {
    return String(text || "")
      .split(",")
      .map(function (item) { return item.trim(); })
      .filter(function (item) { return item.length > 0; });
  }

  /** A required field's trimmed value; empty, it is marked invalid, ``message`` is shown and it gets focus (→ ""). */
  function requiredValue(input, message) {
    var value = input.value.trim();
    if (!value) {
      input.setAttribute("aria-invalid", "true");
      page.setStatus(message, "error");
      input.focus();
      return "";
    }
    input.removeAttribute("aria-invalid");
    return value;
  }

  function focusLater(node) {
    if (node && typeof node.focus === "function") window.setTimeout(function () { node.focus(); }, 0);
  }

  /** An error whose message is already in the status region (step-up cancelled or failed). */
  function handled(error) {
    var wrapped = error instanceof Error ? error : new Error(String(error));
    wrapped.handled = true;
    return wrapped;
  }

  function describeApiError(error) {
    if (error.status === 0) return error.message;
    if (error.status === 503) return error.message || page.SERVICE_UNAVAILABLE;
    if (error.code === "not_signed_in") return "Your Airflow session has ended. Sign in to Airflow again.";
    if (error.code === "csrf_rejected") return "The request was refused. Reload the page and try again.";
    return error.message || "The request was refused.";
  }

  /** Put an error in the status region (unless it is already there). */
  function reportError(error, prefix) {
    if (error && error.handled) return;
    var text = error instanceof page.ApiError ? describeApiError(error) : page.describeWebAuthnError(error, "authentication");
    page.setStatus((prefix || "") + text, "error");
  }

  // ---- dialogs ----

  /**
   * Show a modal dialog holding a form (prefix "confirm" or "text": its ids are <prefix>-dialog, -form, -cancel).
   * Resolves to answer() when submitted, or null when cancelled or dismissed with Escape; focus then returns to the
   * element that had it.
   */
  function askInDialog(prefix, answer, focusFirst) {
    var dialog = byId(prefix + "-dialog");
    var form = byId(prefix + "-form");
    var cancel = byId(prefix + "-cancel");
    var returnFocus = document.activeElement;
    return new Promise(function (resolve) {
      function finish(value) {
        form.removeEventListener("submit", onSubmit);
        cancel.removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onEscape);
        if (dialog.open) dialog.close();
        if (value === null) focusLater(returnFocus);
        resolve(value);
      }
      function onSubmit(event) {
        event.preventDefault();
        finish(answer());
      }
      function onCancel() {
        finish(null);
      }
      function onEscape(event) {
        event.preventDefault();
        finish(null);
      }
      form.addEventListener("submit", onSubmit);
      cancel.addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onEscape);
      dialog.showModal();
      (focusFirst || cancel).focus();
    });
  }

  /** Ask before something destructive. Resolves true (confirmed) or false; focus returns to the caller. */
  function confirmAction(options) {
    byId("confirm-title").textContent = options.title;
    byId("confirm-message").textContent = options.message;
    byId("confirm-ok").textContent = options.confirmLabel;
    // The safe choice (Cancel) has focus first.
    return askInDialog("confirm", function () { return true; }).then(function (value) { return value === true; });
  }

  /** A one-field form in a dialog: resolves to the entered text, or null when cancelled. */
  function askText(options) {
    var input = byId("text-input");
    byId("text-title").textContent = options.title;
    byId("text-message").textContent = options.message;
    byId("text-label").textContent = options.label;
    byId("text-ok").textContent = options.confirmLabel;
    input.value = options.value || "";
    return askInDialog("text", function () { return input.value; }, input);
  }

  // ---- step-up ----

  var stepUpInFlight = null;

  async function runStepUpCeremony() {
    var browser = page.browser();
    if (!browser || !browser.browserSupportsWebAuthn()) {
      throw handled(new Error("unsupported"));
    }
    page.setStatus("Follow your browser's prompt to confirm with your passkey…", "info");
    var options = await page.postJSON("step-up/options", {});
    var assertion = await browser.startAuthentication({ optionsJSON: options });
    page.setStatus("Checking your passkey…", "info");
    await page.postJSON("step-up/verify", { response: assertion });
    page.setStatus("Confirmed it's you. You won't be asked again for a few minutes.", "success");
  }

  /**
   * Show the "Confirm it's you" dialog and run a passkey assertion for the signed-in person. Resolves when
   * Airflow holds a fresh confirmation; rejects with a handled error (message already shown) otherwise.
   * Concurrent callers share one prompt.
   */
  function stepUp() {
    if (stepUpInFlight) return stepUpInFlight;
    var dialog = byId("step-up-dialog");
    var confirm = byId("step-up-confirm");
    var cancel = byId("step-up-cancel");
    var returnFocus = document.activeElement;
    stepUpInFlight = new Promise(function (resolve, reject) {
      function close() {
        confirm.removeEventListener("click", onConfirm);
        cancel.removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onEscape);
        if (dialog.open) dialog.close();
        focusLater(returnFocus);
      }
      async function onConfirm() {
        close(); // the browser shows its own passkey prompt; the status region tells what happens
        try {
          await runStepUpCeremony();
          resolve();
        } catch (error) {
          if (error && error.handled) {
            page.setStatus("This browser cannot use passkeys, so your identity cannot be confirmed here.", "error");
          } else if (error instanceof page.ApiError) {
            page.setStatus("Could not confirm it's you: " + describeApiError(error), "error");
          } else {
            page.setStatus(page.describeWebAuthnError(error, "authentication"), "error");
          }
          reject(handled(error));
        }
      }
      function onCancel() {
        close();
        page.setStatus("Not confirmed, so nothing was changed.", "info");
        reject(handled(new Error("step-up cancelled")));
      }
      function onEscape(event) {
        event.preventDefault();
        onCancel();
      }
      confirm.addEventListener("click", onConfirm);
      cancel.addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onEscape);
      dialog.showModal();
      confirm.focus();
    });
    stepUpInFlight.then(
      function () { stepUpInFlight = null; },
      function () { stepUpInFlight = null; }
    );
    return stepUpInFlight;
  }

  /** Call the JSON API; on 401 step_up_required, confirm it's you and retry once. */
  async function api(method, path, body) {
    try {
      return await page.requestJSON(method, path, body);
    } catch (error) {
      if (!(error instanceof page.ApiError) || error.code !== "step_up_required") throw error;
      await stepUp();
      return await page.requestJSON(method, path, body);
    }
  }

  /** Copy a read-only field's value; if the clipboard is not available, leave it selected for Ctrl+C. */
  async function copyField(input, what) {
    input.focus();
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      page.setStatus(what + " copied to the clipboard.", "success");
      return;
    } catch (clipboardBlocked) {
      // fall through to the legacy path (e.g. inside Airflow's iframe without clipboard permission)
    }
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (legacyBlocked) {
      copied = false;
    }
    page.setStatus(
      copied ? what + " copied to the clipboard." : what + " is selected: press Ctrl+C (⌘C on a Mac) to copy it.",
      copied ? "success" : "info"
    );
  }

  window.WebAuthnManage = {
    api: api,
    stepUp: stepUp,
    confirmAction: confirmAction,
    askText: askText,
    copyField: copyField,
    reportError: reportError,
    describeApiError: describeApiError,
    byId: byId,
    el: el,
    formatDate: formatDate,
    flagText: flagText,
    policyText: policyText,
    splitList: splitList,
    requiredValue: requiredValue,
    focusLater: focusLater,
  };
})();
