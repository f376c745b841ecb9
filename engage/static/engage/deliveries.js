/* The deliveries panel on a message page refreshes itself while anything is still to go out.
   It fetches the panel's server-rendered HTML (campaigns:message_deliveries) and swaps it in.
   The page works without this file: a reload shows the same panel. No framework. */
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser) { return; }
  var announcer = document.getElementById("deliveries-announce");
  var delay = null;
  var timer = null;

  function panel() { return document.getElementById("deliveries-panel"); }

  function statuses(node) {
    var out = {};
    Array.prototype.forEach.call(node.querySelectorAll("tr[data-status]"), function (row) {
      out[row.id] = row.getAttribute("data-status");
    });
    return out;
  }

  // The heading shows the message's status as the page was loaded: keep it true, and say that the
  // actions on the page (edit, schedule, withdraw) were for the old status.
  function syncHeader() {
    var header = document.getElementById("message-status");
    var summary = document.getElementById("deliveries-summary");
    if (!header || !summary) { return; }
    var now = summary.getAttribute("data-message-status");
    if (!now || now === header.getAttribute("data-status")) { return; }
    var badge = summary.querySelector(".panel-status");
    if (badge) { header.innerHTML = badge.innerHTML; }
    var note = document.getElementById("deliveries-reload");
    if (note) {
      note.querySelector("strong").textContent = summary.getAttribute("data-message-label") || now;
      note.hidden = false;
    }
  }

  function schedule(current) {
    window.clearTimeout(timer);
    if (!current || current.getAttribute("data-live") !== "1") { return; } // everything has settled
    var note = current.querySelector(".auto-note");
    if (note) { note.hidden = false; }
    var interval = Math.max(1, parseInt(current.getAttribute("data-interval"), 10) || 10) * 1000;
    if (delay === null || delay < interval) { delay = interval; }
    timer = window.setTimeout(poll, document.hidden ? Math.max(delay, 60000) : delay);
  }

  function poll() {
    var current = panel();
    if (!current) { return; }
    // Never swap the panel under someone who is about to press one of its buttons.
    if (current.contains(document.activeElement) && document.activeElement !== document.body) {
      schedule(current);
      return;
    }
    window.fetch(current.getAttribute("data-poll-url"), {
      headers: { "Accept": "text/html" }, cache: "no-store", credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("deliveries-panel");
      if (!fresh) { throw new Error("no panel in the answer"); }
      var before = statuses(current);
      var after = statuses(fresh);
      var changed = Object.keys(after).filter(function (id) { return before[id] !== after[id]; }).length;
      current.parentNode.replaceChild(document.importNode(fresh, true), current);
      if (changed && announcer) {
        var summary = document.getElementById("deliveries-summary");
        announcer.textContent = summary ? summary.textContent.replace(/\s+/g, " ").trim() : "";
      }
      syncHeader();
      delay = null;
    }).catch(function () {
      delay = Math.min((delay || 5000) * 2, 300000); // back off when the server or network struggles
    }).then(function () { schedule(panel()); });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && panel() && panel().getAttribute("data-live") === "1") { poll(); }
  });
  schedule(panel());
}());
