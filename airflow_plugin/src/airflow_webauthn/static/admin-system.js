/* Administration page, system sections: signing keys and the audit trail. */
(function () {
  "use strict";

  var page = window.WebAuthnPage;
  var M = window.WebAuthnManage;
  var T = window.WebAuthnAdminTables;
  var el = M.el;
  var $ = M.byId;
  var AUDIT_PAGE_SIZE = 50;
  var TOKEN_ISSUED = "token.issued";
  var hiddenGrants = 0;
  var auditCursor = null;
  var auditQuery = "";

  // ---- signing keys ----

  async function loadKeys() {
    var isNewest = T.newest("keys");
    var keys = (await M.api("GET", "api/admin/keys")) || [];
    if (!isNewest()) return;
    T.fill("keys-table", keys.map(function (key) {
      return el("tr", {}, T.cells([
        key.kid, key.alg, key.state, M.formatDate(key.createdAt), M.formatDate(key.activatedAt), M.formatDate(key.retiredAt),
      ]));
    }), "No signing keys.", 6);
  }

  async function rotateKeys() {
    var confirmed = await M.confirmAction({
      title: "Rotate signing keys?",
      message: "The next key starts signing tokens now. Tokens signed with the current key stay valid until they expire.",
      confirmLabel: "Rotate keys",
    });
    if (!confirmed) return;
    try {
      await M.api("POST", "api/admin/keys/rotate", {});
      await loadKeys();
      page.setStatus("Signing keys rotated.", "success");
      M.focusLater($("rotate-keys"));
    } catch (error) {
      M.reportError(error, "The signing keys were not rotated: ");
    }
  }

  // ---- audit trail ----

  // The Since/Until fields are in UTC, like every time shown on the page.
  function isoOrEmpty(utcValue) {
    if (!utcValue) return "";
    var date = new Date(utcValue + "Z");
    return isNaN(date.getTime()) ? "" : date.toISOString();
  }

  function auditFilters() {
    var params = new URLSearchParams();
    var values = {
      type: $("audit-type").value.trim(),
      outcome: $("audit-outcome").value,
      // The service resolves a username, a service account's name or client id, or takes an id as typed.
      actor: $("audit-actor").value.trim(),
      subject: $("audit-subject").value.trim(),
      since: isoOrEmpty($("audit-since").value),
      until: isoOrEmpty($("audit-until").value),
    };
    Object.keys(values).forEach(function (name) { if (values[name]) params.set(name, values[name]); });
    params.set("limit", String(AUDIT_PAGE_SIZE));
    return params.toString();
  }

  var KINDS = { user: "user", service_account: "service account", cli: "CLI", invite: "invite", key: "key", passkey: "passkey" };

  /**
   * Who acted or was acted on: by the name the service looked up when it read the trail (the trail records ids),
   * else by id (an invite, a key, a deleted account). The id stays in the cell's title for copying into a filter.
   */
  function who(type, id, name) {
    var kind = KINDS[type] || (type ? type.replace(/_/g, " ") : "");
    if (!id) return el("td", { text: kind || "—" });
    var cell = el("td", { text: (kind ? kind + " " : "") + (name || id) });
    if (name) cell.title = id;
    return cell;
  }

  async function loadAudit(more) {
    if (!more) auditQuery = auditFilters();
    var query = auditQuery + (more && auditCursor ? "&cursor=" + encodeURIComponent(auditCursor) : "");
    var isNewest = T.newest("audit");
    var pageOfEvents = await M.api("GET", "api/admin/audit?" + query);
    if (!isNewest()) return { count: 0, first: null };
    var body = T.tbody("audit-table");
    if (!more) body.textContent = "";
    var items = (pageOfEvents && pageOfEvents.items) || [];
    var first = null;
    // Token grants (every CLI call and script makes one) bury the rest: collapsed unless asked for.
    var showGrants = $("audit-show-grants").checked || $("audit-type").value.trim() === TOKEN_ISSUED;
    var hidden = items.filter(function (event) { return event.type === TOKEN_ISSUED; }).length;
    if (!showGrants) items = items.filter(function (event) { return event.type !== TOKEN_ISSUED; });
    if (!more) hiddenGrants = 0;
    hiddenGrants += showGrants ? 0 : hidden;
    $("audit-hidden-grants").textContent = hiddenGrants
      ? hiddenGrants + " token grants (token.issued) hidden; tick \u201cShow token grants\u201d to list them."
      : "";
    items.forEach(function (event) {
      var time = el("td", { tabindex: "-1", text: M.formatDate(event.occurredAt) });
      first = first || time;
      body.appendChild(el("tr", {}, [time].concat(T.cells([event.type, event.outcome]), [
        who(event.actorType, event.actorId, event.actorName), who(event.subjectType, event.subjectId, event.subjectName),
      ], T.cells([event.reason || ""]))));
    });
    if (!more && items.length === 0 && hiddenGrants === 0) {
      body.appendChild(el("tr", { class: "empty" }, [el("td", { colspan: 6, text: "No events match these filters." })]));
    }
    auditCursor = (pageOfEvents && pageOfEvents.nextCursor) || null;
    $("audit-more").hidden = !auditCursor;
    return { count: items.length, first: first };
  }

  async function applyFilters(event) {
    event.preventDefault();
    // Replaced at once, so that neither a person nor a test reads the previous filter's count as this one's.
    page.setStatus("Loading events\u2026", "info");
    try {
      var result = await loadAudit(false);
      page.setStatus("Showing " + result.count + (auditCursor ? "+" : "") + " events.", "info");
    } catch (error) {
      M.reportError(error, "The audit trail could not be loaded: ");
    }
  }

  async function loadMore() {
    page.setStatus("Loading more events\u2026", "info");
    try {
      var result = await loadAudit(true);
      page.setStatus("Loaded " + result.count + " more events.", "info");
      M.focusLater(auditCursor ? $("audit-more") : result.first);
    } catch (error) {
      M.reportError(error, "More events could not be loaded: ");
    }
  }

  $("rotate-keys").addEventListener("click", rotateKeys);
  $("audit-form").addEventListener("submit", applyFilters);
  $("audit-more").addEventListener("click", loadMore);

  T.addPanel("The audit trail", function () { return loadAudit(false); });
  T.addPanel("Signing keys", loadKeys);
})();
