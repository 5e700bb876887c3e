/* Shared helpers of every page: JSON calls to Airflow, the status region and readable errors. */
(function () {
  "use strict";

  var SERVICE_UNAVAILABLE = "The sign-in service is unavailable right now. Try again in a moment.";
  var CANCELLED = "The passkey request was cancelled or timed out. Try again when you are ready.";

  function ApiError(status, body) {
    this.name = "ApiError";
    this.status = status;
    this.code = (body && body.error) || "";
    var detail = body && body.detail;
    if (Array.isArray(detail)) {
      // FastAPI's own validation errors: a list of {loc, msg}.
      detail = detail.map(function (item) { return (item && item.msg) || String(item); }).join("; ");
    }
    this.message = detail ? String(detail) : "";
  }
  ApiError.prototype = Object.create(Error.prototype);

  /** Call a route of this auth manager (relative to <base href>) with an optional JSON body. */
  async function requestJSON(method, path, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    var response;
    try {
      response = await fetch(path, init);
    } catch (networkError) {
      throw new ApiError(0, { error: "network", detail: "Airflow could not be reached. Check your connection." });
    }
    var data = null;
    try {
      data = await response.json();
    } catch (notJson) {
      data = null;
    }
    if (!response.ok) {
      throw new ApiError(response.status, data);
    }
    return data;
  }

  /** POST JSON to a route of this auth manager (relative to <base href>). */
  function postJSON(path, body) {
    return requestJSON("POST", path, body);
  }

  /** Show a message in the page's aria-live status region. kind: "info" | "error" | "success". */
  function setStatus(text, kind) {
    var status = document.getElementById("status");
    status.dataset.kind = kind || "info";
    status.textContent = text;
  }

  /** A user-facing sentence for an error from the browser's WebAuthn API (via SimpleWebAuthn). */
  function describeWebAuthnError(error, ceremony) {
    var name = error && error.name;
    var code = error && error.code;
    if (name === "NotAllowedError" || code === "ERROR_CEREMONY_ABORTED") {
      return ceremony === "registration"
        ? CANCELLED
        : "The passkey request was cancelled, timed out, or no passkey for this site was chosen. " +
            "Try again, or use the device that holds your passkey.";
    }
    if (name === "InvalidStateError" || code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED") {
      return "This device already holds a passkey for your account. Go to the sign-in page and use it.";
    }
    if (name === "SecurityError" || code === "ERROR_INVALID_DOMAIN" || code === "ERROR_INVALID_RP_ID") {
      // The page says where passkeys work (data-passkey-origin, Airflow's configured address) when it knows.
      var origin = document.body.getAttribute("data-passkey-origin");
      return origin
        ? "Passkeys cannot be used at this address. Open Airflow at " + origin + " and try again."
        : "Passkeys cannot be used at this address. Open Airflow at the address your administrator gave you " +
            "and try again.";
    }
    if (name === "NotSupportedError" || code === "ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG") {
      return "This device or browser cannot create the kind of passkey Airflow needs.";
    }
    return "Something went wrong with the passkey request. Please try again.";
  }

  /**
   * The page's passkey library if this browser can use passkeys; otherwise disables `button`, says why (ending
   * with `purpose`, e.g. "to sign in") and returns null.
   */
  function passkeyBrowser(button, purpose) {
    var browser = window.SimpleWebAuthnBrowser;
    if (!browser) {
      // The SimpleWebAuthn bundle is copied in by the npm build; without it nothing can work.
      button.disabled = true;
      setStatus("This page is incomplete (its passkey script is missing). Ask an administrator to reinstall the Airflow WebAuthn plugin.", "error");
      return null;
    }
    if (!browser.browserSupportsWebAuthn()) {
      button.disabled = true;
      setStatus("This browser does not support passkeys. Use an up-to-date browser " + purpose + ".", "error");
      return null;
    }
    return browser;
  }

  window.WebAuthnPage = {
    ApiError: ApiError,
    passkeyBrowser: passkeyBrowser,
    postJSON: postJSON,
    requestJSON: requestJSON,
    setStatus: setStatus,
    describeWebAuthnError: describeWebAuthnError,
    SERVICE_UNAVAILABLE: SERVICE_UNAVAILABLE,
    browser: function () {
      return window.SimpleWebAuthnBrowser;
    },
  };
})();
