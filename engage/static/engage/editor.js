// The message editor: live checker findings, and each ticked channel's post as its platform will show
// it, with a running count in plain words (counting.js counts the way the server does; the server's
// previews, templates/campaigns/_previews.html, are the starting point). No framework, no inline script.
(function () {
  "use strict";
  var form = document.getElementById("message-form");
  if (!form) { return; }
  var body = form.querySelector("textarea[name=body]");
  var list = document.getElementById("checker-findings");
  var previews = document.getElementById("channel-previews");
  var noChannel = document.getElementById("no-channel-note");
  function json(id, fallback) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent || "null") || fallback : fallback;
  }
  var kinds = json("channel-kinds", {});
  var words = json("counter-words", {});
  var rtl = json("rtl-languages", []);
  var eventTags = json("event-hashtags", {});
  var counting = window.EngageCounting;
  var timer = null;

  // -- words ---------------------------------------------------------------------------------------
  function fill(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (all, key) { return key in values ? values[key] : all; });
  }
  // The number that picks the plural form of n in the desk's language (campaigns/previews.py).
  function sample(n) {
    if (document.documentElement.lang === "cy") { return n === 1 ? 1 : n === 2 ? 2 : (n !== 8 && n !== 11) ? 3 : 8; }
    return n === 1 ? 1 : 2;
  }
  function plural(forms, n, values) { return fill(forms[String(sample(n))] || forms["2"], values); }
  function label(c) {
    if (c.limit === null) { return plural(words.characters, c.used, {n: c.used}); }
    if (c.segments !== null) { return plural(words.sms, c.segments, {used: c.used, limit: c.limit, n: c.segments}); }
    return fill(words.of, {used: c.used, limit: c.limit});
  }
  // A quote of the officer's text: on one line, cut at a word boundary (campaigns/checker/findings.py).
  function quoted(text, limit) {
    limit = limit || 40;
    text = text.split(/\s+/).filter(Boolean).join(" ");
    if (text.length <= limit) { return text; }
    var cut = text.slice(0, limit + 1), space = cut.lastIndexOf(" ");
    var head = space > Math.floor(limit / 3) ? cut.slice(0, space) : text.slice(0, limit);
    return head.replace(/[ ,;:.\-\u2013\u2014]+$/, "") + "\u2026";
  }

  // -- the form ------------------------------------------------------------------------------------
  function value(name) { var f = form.querySelector("[name=" + name + "]"); return f ? f.value : ""; }
  function language() { return value("language") || "en"; }
  function direction(lang) { return rtl.indexOf(lang.split("-")[0].toLowerCase()) >= 0 ? "rtl" : "ltr"; }
  function tickedChannels() {
    var out = [];
    form.querySelectorAll("input[name=channels]:checked").forEach(function (box) { out.push(box.value); });
    return out;
  }
  function selectedKinds() {
    var out = [];
    tickedChannels().forEach(function (id) {
      var kind = kinds[id];
      if (kind && out.indexOf(kind) < 0) { out.push(kind); }
    });
    return out;
  }
  var TAG = /^[\p{L}\p{M}\p{N}_]{1,50}$/u;
  // The valid tags of the Hashtags field (the server refuses the rest, with the reason).
  function hashtags() {
    return value("hashtags").split(/[\s,]+/).filter(function (token) {
      var name = token.slice(1);
      return token.charAt(0) === "#" && TAG.test(name) && !/^\p{M}/u.test(name) && /[\p{L}_]/u.test(name);
    }).map(function (token) { return token.slice(1); });
  }
  function eventHashtags() {
    var campaign = form.querySelector("[name=campaign]");
    return (campaign && eventTags[campaign.value]) || [];
  }

  // -- previews ------------------------------------------------------------------------------------
  // Text with each hashtag and web address in <bdi> (campaigns/previews.py), so "#DerbyDay" keeps its
  // "#" in front and a link reads left to right inside right-to-left text.
  function renderText(node, text) {
    node.textContent = "";
    var pattern = /(^|\s)(#[^\s#<>&]+|https?:\/\/\S+)/g, position = 0, m;
    while ((m = pattern.exec(text)) !== null) {
      var start = m.index + m[1].length;
      node.appendChild(document.createTextNode(text.slice(position, start)));
      var bdi = document.createElement("bdi");
      bdi.textContent = m[2];
      node.appendChild(bdi);
      position = start + m[2].length;
    }
    node.appendChild(document.createTextNode(text.slice(position)));
  }
  function firstLine(text) {
    var trimmed = text.trim();
    return trimmed ? trimmed.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/)[0] : "";
  }
  function subject(kind, text) {
    var title = value("title");
    if (kind === "webhook") { return title || text.split("\n")[0].slice(0, 120); }
    var line = (title || firstLine(text)).split(/\s+/).filter(Boolean).join(" ");
    return Array.from(line).length > 120 ? Array.from(line).slice(0, 119).join("") + "\u2026" : line;
  }
  function updateCard(card, text, tags, lang) {
    var kind = card.getAttribute("data-kind");
    var sent = counting.composed(kind, text, tags);
    if (kind === "email") { sent = text.trim() + (card.getAttribute("data-tail") || ""); }
    var counted = counting.countFor(kind, kind === "email" ? text : sent,
                                    {maxSegments: parseInt(card.getAttribute("data-max-segments"), 10) || 3});
    var dir = direction(lang);
    var textNode = card.querySelector("[data-part=text]");
    if (textNode) {
      renderText(textNode, sent);
      textNode.setAttribute("lang", lang);
      textNode.setAttribute("dir", dir);
    }
    var subjectNode = card.querySelector("[data-part=subject]");
    if (subjectNode) {
      renderText(subjectNode, subject(kind, text));
      subjectNode.setAttribute("lang", lang);
      subjectNode.setAttribute("dir", dir);
    }
    var partsNode = card.querySelector("[data-part=parts]");
    if (partsNode) {
      partsNode.textContent = "";
      var parts = counting.smsParts(sent);
      if (!parts.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = words.empty;
        partsNode.appendChild(none);
      }
      parts.forEach(function (part, index) {
        var li = document.createElement("li");
        var caption = document.createElement("span");
        caption.className = "meta";
        caption.textContent = fill(words.part, {n: index + 1});
        var box = document.createElement("div");
        box.className = "preview";
        box.setAttribute("lang", lang);
        box.setAttribute("dir", dir);
        renderText(box, part);
        li.appendChild(caption);
        li.appendChild(box);
        partsNode.appendChild(li);
      });
    }
    var counter = card.querySelector("[data-part=count]");
    counter.textContent = label(counted);
    counter.classList.toggle("over", counted.over);
    if (counted.over) {
      var strong = document.createElement("strong");
      strong.className = "status failed";
      strong.textContent = words.too_long;
      counter.appendChild(document.createTextNode(" "));
      counter.appendChild(strong);
    }
    var ucs2 = card.querySelector("[data-part=ucs2]");
    if (ucs2) {
      var forcing = kind === "sms" && counted.encoding === "UCS-2" ? counting.nonGsm(sent).slice(0, 10) : [];
      ucs2.hidden = !forcing.length;
      ucs2.textContent = fill(words.ucs2, {chars: forcing.join(" ")});
    }
  }
  function updatePreviews() {
    if (!previews || !counting) { return; }
    var ticked = tickedChannels(), text = body.value, tags = hashtags(), lang = language(), shown = 0;
    body.setAttribute("dir", direction(lang));
    body.setAttribute("lang", lang);
    previews.querySelectorAll(".preview-card").forEach(function (card) {
      var on = ticked.indexOf(card.getAttribute("data-channel")) >= 0;
      card.hidden = !on;
      if (on) { shown += 1; updateCard(card, text, tags, lang); }
    });
    if (noChannel) { noChannel.hidden = shown > 0; }
  }

  // -- the checker ---------------------------------------------------------------------------------
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function render(findings) {
    list.textContent = "";
    if (!findings.length) {
      var ok = document.createElement("li");
      ok.textContent = words.no_problems || "No problems found.";
      list.appendChild(ok);
      return;
    }
    findings.forEach(function (f) {
      var li = document.createElement("li");
      li.className = f.severity;
      li.setAttribute("data-code", f.code);
      var strong = document.createElement("strong");
      strong.textContent = (f.severity === "error" ? words.error || "Error:" : words.warning || "Warning:") + " ";
      li.appendChild(strong);
      li.appendChild(document.createTextNode(f.message));
      var piece = f.span && body.value ? body.value.slice(f.span[0], f.span[1]) : "";
      var quote = piece ? quoted(piece) : "";
      if (quote && f.message.indexOf(quote.replace(/\u2026$/, "")) < 0) {  // not when the message quotes it
        var q = document.createElement("q");
        q.textContent = quote;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(q);
      }
      list.appendChild(li);
    });
  }
  function check() {
    var instructive = form.querySelector("[name=instructive]");
    fetch(form.getAttribute("data-checks-url"), {
      method: "POST",
      credentials: "same-origin",
      // The findings in the desk's language (the API answers in the request's language).
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(),
                "Accept-Language": document.documentElement.lang || "en"},
      body: JSON.stringify({
        body: body.value, channels: selectedKinds(), language: language(),
        hashtags: hashtags(), event_hashtags: eventHashtags(), instructive: instructive ? instructive.checked : true
      })
    }).then(function (r) { return r.ok ? r.json() : []; }).then(render).catch(function () {});
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(check, 250); }
  function changed() { updatePreviews(); schedule(); }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  updatePreviews();
  if (body.value) { check(); }
})();
