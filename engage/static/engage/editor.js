// The message editor: live checker findings and a plain preview. No framework, no inline script.
(function () {
  "use strict";
  var form = document.getElementById("message-form");
  if (!form) { return; }
  var body = form.querySelector("textarea[name=body]");
  var list = document.getElementById("checker-findings");
  var preview = document.getElementById("preview-text");
  var kinds = JSON.parse(document.getElementById("channel-kinds").textContent || "{}");
  var timer = null;

  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function selectedKinds() {
    var out = [];
    form.querySelectorAll("input[name=channels]:checked").forEach(function (box) {
      var kind = kinds[box.value];
      if (kind && out.indexOf(kind) < 0) { out.push(kind); }
    });
    return out;
  }
  function hashtags() {
    var field = form.querySelector("input[name=hashtags]");
    return field ? field.value.split(/[\s,]+/).filter(Boolean) : [];
  }
  function render(findings) {
    list.textContent = "";
    if (!findings.length) {
      var ok = document.createElement("li");
      ok.textContent = "No problems found.";
      list.appendChild(ok);
      return;
    }
    findings.forEach(function (f) {
      var li = document.createElement("li");
      li.className = f.severity;
      li.setAttribute("data-code", f.code);
      var strong = document.createElement("strong");
      strong.textContent = (f.severity === "error" ? "Error: " : "Warning: ");
      li.appendChild(strong);
      li.appendChild(document.createTextNode(f.message));
      var quoted = f.span && body.value ? body.value.slice(f.span[0], f.span[1]).slice(0, 80) : "";
      if (quoted && f.message.indexOf(quoted) < 0) {  // not when the message already quotes it
        var quote = document.createElement("q");
        quote.textContent = quoted;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(quote);
      }
      list.appendChild(li);
    });
  }
  function check() {
    preview.textContent = body.value;
    var language = form.querySelector("[name=language]");
    var instructive = form.querySelector("[name=instructive]");
    fetch(form.getAttribute("data-checks-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify({
        body: body.value, channels: selectedKinds(), language: language ? language.value : "en",
        hashtags: hashtags(), instructive: instructive ? instructive.checked : true
      })
    }).then(function (r) { return r.ok ? r.json() : []; }).then(render).catch(function () {});
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(check, 250); }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  if (body.value) { check(); }
})();
