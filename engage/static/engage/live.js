/* The live event page polls a small JSON endpoint and adds new updates without a reload.
   The page works fully without this file: it is plain server-rendered HTML. No framework. */
(function () {
  "use strict";
  var list = document.getElementById("updates");
  if (!list || !window.fetch) { return; }
  var url = list.getAttribute("data-updates-url");
  var cursor = list.getAttribute("data-cursor") || "0";
  var interval = Math.max(1, parseInt(list.getAttribute("data-interval"), 10) || 20) * 1000;
  var announceTemplate = list.getAttribute("data-announce") || "New updates: %n";
  var announcer = document.getElementById("live-announce");
  var updatedAt = document.getElementById("live-updated");
  var phase = document.getElementById("event-phase");
  var auto = document.getElementById("live-auto");
  var delay = interval;
  var timer = null;
  if (auto) { auto.hidden = false; }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  function apply(data) {
    var added = 0;
    var ids = {};
    (data.ids || []).forEach(function (id) { ids[String(id)] = true; });
    // Newest first: insert in reverse so the newest ends up on top.
    (data.updates || []).slice().reverse().forEach(function (update) {
      var old = document.getElementById("update-" + update.id);
      if (old) { old.parentNode.removeChild(old); } else { added += 1; }
      var node = fragment(update.html).firstElementChild;
      if (!node) { return; }
      node.classList.add("is-new");
      list.insertBefore(node, list.firstElementChild);
    });
    Array.prototype.forEach.call(list.querySelectorAll("[data-update-id]"), function (node) {
      if (!ids[node.getAttribute("data-update-id")]) { node.parentNode.removeChild(node); }
    });
    var empty = document.getElementById("no-updates");
    if (empty && list.querySelector("[data-update-id]")) { empty.parentNode.removeChild(empty); }
    var board = document.getElementById("rumours");
    if (board && data.rumours && data.rumours.version !== board.getAttribute("data-version")) {
      var fresh = fragment(data.rumours.html).firstElementChild;
      if (fresh) { board.parentNode.replaceChild(fresh, board); }
    }
    if (phase && data.phase) { phase.textContent = data.phase; }
    if (updatedAt && data.updated) { updatedAt.textContent = data.updated; }
    if (data.cursor) { cursor = data.cursor; }
    if (added && announcer) { announcer.textContent = announceTemplate.replace("%n", String(added)); }
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, document.hidden ? Math.max(delay, 60000) : delay);
  }

  function poll() {
    var sep = url.indexOf("?") === -1 ? "?" : "&";
    window.fetch(url + sep + "since=" + encodeURIComponent(cursor), {
      headers: { "Accept": "application/json" }, cache: "no-cache", credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      apply(data);
      delay = interval;
    }).catch(function () {
      delay = Math.min(delay * 2, 300000); // back off on a congested network
    }).then(schedule);
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
  schedule();
}());
