/* Drag a scheduled message onto another day of the calendar to move it there, at the same time.
   The drop only fills in that message's own "Move" form (a normal POST with its CSRF token, the
   same form a keyboard user submits) and, once the person confirms, submits it: the server checks
   and records it exactly as it does the message page's schedule form. No framework. */
(function () {
  "use strict";
  var table = document.getElementById("calendar");
  var prompt = document.getElementById("move-confirm-text");
  if (!table || !prompt) { return; }
  var dragged = null;

  function cell(node) {
    while (node && node !== table) {
      if (node.nodeName === "TD" && node.hasAttribute("data-date")) { return node; }
      node = node.parentNode;
    }
    return null;
  }

  table.addEventListener("dragstart", function (event) {
    var item = event.target.closest ? event.target.closest("li[draggable='true']") : null;
    if (!item) { return; }
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.getAttribute("data-message"));
  });

  table.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    Array.prototype.forEach.call(table.querySelectorAll("td.drop-target"), function (td) {
      td.classList.remove("drop-target");
    });
  });

  table.addEventListener("dragover", function (event) {
    var target = cell(event.target);
    if (!dragged || !target) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    Array.prototype.forEach.call(table.querySelectorAll("td.drop-target"), function (td) {
      if (td !== target) { td.classList.remove("drop-target"); }
    });
    target.classList.add("drop-target");
  });

  table.addEventListener("drop", function (event) {
    var target = cell(event.target);
    if (!dragged || !target) { return; }
    event.preventDefault();
    var item = dragged;
    dragged = null;
    target.classList.remove("drop-target");
    var when = target.getAttribute("data-date") + "T" + item.getAttribute("data-time");
    var form = item.querySelector("form.move-form");
    var input = form && form.querySelector("input[name='scheduled_at']");
    if (!input || input.value === when) { return; }
    var question = prompt.getAttribute("data-text")
      .replace("%(title)s", item.getAttribute("data-title"))
      .replace("%(when)s", when.replace("T", " "));
    if (!window.confirm(question)) { return; }
    input.value = when;
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });
}());
