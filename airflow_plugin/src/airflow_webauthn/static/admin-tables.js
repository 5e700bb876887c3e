/* Table helpers shared by the administration page's panel scripts (admin-*.js). */
(function () {
  "use strict";

  var M = window.WebAuthnManage;
  var el = M.el;

  // Loads can overlap (the first load after confirming, and a reload after a change): only the newest
  // answer of each kind may fill its table.
  var generations = {};
  function newest(kind) {
    var generation = (generations[kind] || 0) + 1;
    generations[kind] = generation;
    return function () { return generations[kind] === generation; };
  }

  function byIdIn(items, id) {
    return items.filter(function (item) { return item.id === id; })[0];
  }

  var T = {
    users: [], // the last loaded user list (admin-users.js keeps it current)
    accounts: [], // the last loaded service accounts (admin-service-accounts.js keeps it current)
    newest: newest,
    byIdIn: byIdIn,
  };

  T.tbody = function (tableId) {
    return M.byId(tableId).tBodies[0];
  };

  T.fill = function (tableId, rows, emptyText, columns) {
    var body = T.tbody(tableId);
    body.textContent = "";
    if (rows.length === 0) {
      body.appendChild(el("tr", { class: "empty" }, [el("td", { colspan: columns, text: emptyText })]));
      return;
    }
    rows.forEach(function (row) { body.appendChild(row); });
  };

  T.cells = function (values) {
    return values.map(function (value) {
      return typeof value === "string" || value === null || value === undefined
        ? el("td", { text: value === null || value === undefined ? "—" : value })
        : el("td", {}, [value]);
    });
  };

  /** A row's button whose accessible name names the item ("Disable alice"). */
  T.actionButton = function (text, label, action, id, kind) {
    return el("button", { type: "button", class: "small " + (kind || "secondary"), "data-action": action, "data-id": id, "aria-label": label, text: text });
  };

  T.findButton = function (container, action, id) {
    var buttons = container.querySelectorAll("button[data-action='" + action + "']");
    for (var i = 0; i < buttons.length; i += 1) {
      if (buttons[i].getAttribute("data-id") === id) return buttons[i];
    }
    return null;
  };

  /**
   * Opens or closes a row's sub-panel (a user's passkeys, their command lines): the toggle button's
   * aria-expanded, the panel row, the `open` set (kept so a rebuilt table opens it again), then `load`
   * the panel's content; `what` names it in the error message.
   */
  T.toggleSubRow = async function (toggleButton, panelRow, open, key, load, what) {
    var shown = toggleButton.getAttribute("aria-expanded") !== "true";
    toggleButton.setAttribute("aria-expanded", shown ? "true" : "false");
    panelRow.hidden = !shown;
    if (shown) open[key] = true;
    else delete open[key];
    if (!shown) return;
    try {
      await load();
    } catch (error) {
      M.reportError(error, what + " could not be loaded: ");
    }
  };

  /**
   * The panels admin.js loads once the admin has confirmed it's them: each panel script registers its
   * `load` and the words for its failure, instead of admin.js naming every panel.
   */
  T.panels = [];
  T.addPanel = function (what, load) {
    T.panels.push({ what: what, load: load });
  };

  window.WebAuthnAdminTables = T;
})();
