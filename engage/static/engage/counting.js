/* How each platform counts a post, and what is added to it: a faithful copy of the server's rules
   (platforms/textcount.py, platforms/{x,mastodon,telegram,sms,facebook}/counting.py,
   platforms/counting.py, platforms/hashtags.py) for the editor's live previews. The server stays the
   judge (the checker); tests/browser/test_previews.py compares both over a varied corpus.
   Python counts code points and this file walks them the same way (for...of, Array.from); regular
   expressions spell out Python's \w and \s, which are Unicode-wide there and ASCII in JavaScript.
   No framework, no inline script: window.EngageCounting. */
(function () {
  "use strict";

  var W = "\\p{L}\\p{N}_";                // Python's \w (letters, numbers, underscore)
  var S = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"; // Python's \s

  // -- platforms/textcount.py ---------------------------------------------------------------------
  function codePoints(text) { return Array.from(text); }
  function isAscii(text) { return /^[\x00-\x7f]*$/.test(text); }
  var MARK = /^[\p{Mn}\p{Me}\p{Mc}]$/u;
  function isExtend(ch) {
    var cp = ch.codePointAt(0);
    return (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
      (cp >= 0xE0020 && cp <= 0xE007F) || cp === 0x20E3 || (cp >= 0x300 && MARK.test(ch));
  }
  function isRegional(ch) { var cp = ch.codePointAt(0); return cp >= 0x1F1E6 && cp <= 0x1F1FF; }
  function clusters(text) {
    var out = [], current = [], joining = false;
    codePoints(text).forEach(function (ch) {
      if (!current.length) {
        current = [ch];
      } else if (joining || isExtend(ch) || ch === "\u200d" || (current.length === 1 && current[0] === "\r" && ch === "\n")) {
        current.push(ch);
      } else if (isRegional(ch) && isRegional(current[current.length - 1]) &&
                 current.filter(isRegional).length % 2 === 1) {
        current.push(ch);
      } else {
        out.push(current.join(""));
        current = [ch];
      }
      joining = ch === "\u200d";
    });
    if (current.length) { out.push(current.join("")); }
    return out;
  }
  function graphemeCount(text) {
    if (isAscii(text)) { return text.length - (text.match(/\r\n/g) || []).length; }
    return clusters(text).length;
  }
  var URL_TRAILING = ".,;:!?'\"\u201d\u2019\u00bb)]}\u2026";
  function count(haystack, ch) { return haystack.split(ch).length - 1; }
  function trimUrl(url) {
    while (url && URL_TRAILING.indexOf(url[url.length - 1]) >= 0) {
      if (url[url.length - 1] === ")" && count(url, "(") >= count(url, ")")) { break; }
      url = url.slice(0, -1);
    }
    return url;
  }
  function urlSpans(text, pattern) {
    var spans = [], m;
    pattern.lastIndex = 0;
    while ((m = pattern.exec(text)) !== null) {
      var url = trimUrl(m[0]);
      if (url.indexOf(".") >= 0 || url.indexOf("://") >= 0) { spans.push([m.index, m.index + url.length]); }
      if (m[0].length === 0) { pattern.lastIndex += 1; }
    }
    return spans;
  }

  // -- platforms/x/counting.py --------------------------------------------------------------------
  var X_TLDS = "com|net|org|gov|edu|int|info|biz|io|co|uk|eu|us|ca|au|nz|ie|de|fr|nl|be|es|it|pt|pl|ch|at|" +
    "se|no|dk|fi|police|app|dev|me|tv|ly|gl|fm|social|news|online|site|scot|wales|cymru|london";
  var NOT_URL = "[^" + S + "<>\"]";
  var X_URL = new RegExp("(?<![" + W + "@.\\-/])(?:https?://" + NOT_URL + "+|www\\." + NOT_URL + "+|" +
    "(?:[a-z0-9](?:[a-z0-9\\-]*[a-z0-9])?\\.)+(?:" + X_TLDS + ")(?![" + W + "\\-@])(?:/" + NOT_URL + "*)?)", "giu");
  var X_LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  var PICTOGRAPHIC = [[0x1F000, 0x1FAFF], [0x2600, 0x27BF], [0x2300, 0x23FF], [0x2B00, 0x2BFF]];
  function inRanges(cp, ranges) {
    for (var i = 0; i < ranges.length; i++) { if (cp >= ranges[i][0] && cp <= ranges[i][1]) { return true; } }
    return false;
  }
  function xWeight(text) {
    if (isAscii(text)) { return text.length; }
    var weight = 0;
    clusters(text).forEach(function (cluster) {
      if (inRanges(cluster.codePointAt(0), PICTOGRAPHIC) || cluster.indexOf("\ufe0f") >= 0 || cluster.indexOf("\u20e3") >= 0) {
        weight += 2;
      } else {
        codePoints(cluster).forEach(function (ch) { weight += inRanges(ch.codePointAt(0), X_LIGHT) ? 1 : 2; });
      }
    });
    return weight;
  }
  function xLength(text) {
    text = text.normalize("NFC");
    var total = 0, position = 0;
    urlSpans(text, X_URL).forEach(function (span) {
      total += xWeight(text.slice(position, span[0])) + 23;
      position = span[1];
    });
    return total + xWeight(text.slice(position));
  }

  // -- platforms/mastodon/counting.py -------------------------------------------------------------
  var SCHEME_URL = new RegExp("(?<![" + W + "@.])https?://" + NOT_URL + "+", "giu");
  var MENTION = new RegExp("(?<![=/" + W + "])@([a-z0-9_]+(?:[a-z0-9_.\\-]+[a-z0-9_]+)?)(?:@[" + W + ".\\-]+[" + W + "])?", "giu");
  function mastodonLength(text) {
    var entities = [], m;
    urlSpans(text, SCHEME_URL).forEach(function (span) { entities.push([span[0], span[1], 23]); });
    if (text.indexOf("@") >= 0) {
      MENTION.lastIndex = 0;
      while ((m = MENTION.exec(text)) !== null) { entities.push([m.index, m.index + m[0].length, 1 + codePoints(m[1]).length]); }
    }
    entities.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; });
    var total = 0, position = 0;
    entities.forEach(function (e) {
      if (e[0] < position) { return; }
      total += graphemeCount(text.slice(position, e[0])) + e[2];
      position = e[1];
    });
    return total + graphemeCount(text.slice(position));
  }

  // -- platforms/sms/counting.py ------------------------------------------------------------------
  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENSION = "\f^{}\\[~]|€";
  var SMS_MAX_SEGMENTS = 10;
  function isGsm(ch) { return GSM_BASIC.indexOf(ch) >= 0 || GSM_EXTENSION.indexOf(ch) >= 0; }
  function nonGsm(text) {
    var seen = [];
    codePoints(text).forEach(function (ch) { if (!isGsm(ch) && seen.indexOf(ch) < 0) { seen.push(ch); } });
    return seen;
  }
  function smsEncoding(text) { return nonGsm(text).length ? "UCS-2" : "GSM-7"; }
  function smsCosts(chars, encoding) {
    return chars.map(function (ch) {
      if (encoding === "GSM-7") { return GSM_EXTENSION.indexOf(ch) >= 0 ? 2 : 1; }
      return ch.codePointAt(0) > 0xFFFF ? 2 : 1;
    });
  }
  function sizes(encoding) { return encoding === "GSM-7" ? [160, 153] : [70, 67]; }
  function partBounds(costs, encoding) {
    var single = sizes(encoding)[0], part = sizes(encoding)[1];
    if (!costs.length) { return []; }
    var total = costs.reduce(function (a, b) { return a + b; }, 0);
    if (total <= single) { return [[0, costs.length]]; }
    var bounds = [], start = 0, used = 0;
    costs.forEach(function (cost, index) {
      if (used + cost > part) { bounds.push([start, index]); start = index; used = 0; }
      used += cost;
    });
    bounds.push([start, costs.length]);
    return bounds;
  }
  function smsParts(text) {
    var chars = codePoints(text), encoding = smsEncoding(text);
    return partBounds(smsCosts(chars, encoding), encoding).map(function (b) { return chars.slice(b[0], b[1]).join(""); });
  }
  function smsCount(text, maxSegments) {
    maxSegments = Math.min(maxSegments || 3, SMS_MAX_SEGMENTS);
    var chars = codePoints(text), encoding = smsEncoding(text), costs = smsCosts(chars, encoding);
    var segments = partBounds(costs, encoding).length;
    var limit = maxSegments <= 1 ? sizes(encoding)[0] : sizes(encoding)[1] * maxSegments;
    return {used: costs.reduce(function (a, b) { return a + b; }, 0), limit: limit, segments: segments,
            encoding: encoding, maxSegments: maxSegments, over: segments > maxSegments};
  }

  // -- platforms/counting.py ----------------------------------------------------------------------
  function limited(used, limit) { return {used: used, limit: limit, segments: null, over: used > limit}; }
  function countFor(kind, text, options) {
    options = options || {};
    if (kind === "x") { return limited(xLength(text), 280); }
    if (kind === "mastodon") { return limited(mastodonLength(text), 500); }
    if (kind === "telegram") { return limited(text.length, options.caption ? 1024 : 4096); }
    if (kind === "sms") { return smsCount(text, options.maxSegments); }
    if (kind === "facebook") { return limited(codePoints(text).length, 63206); }
    if (kind === "email" || kind === "webhook" || kind === "public") {
      return {used: codePoints(text).length, limit: null, segments: null, over: false};
    }
    throw new Error("Unknown channel kind: " + kind);
  }

  // -- platforms/hashtags.py ----------------------------------------------------------------------
  var HASHTAG_KINDS = ["x", "mastodon", "facebook", "telegram"];
  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
  function contains(text, name) {
    return new RegExp("(?<![" + W + "#])#" + escapeRegExp(name) + "(?![" + W + "])", "iu").test(text);
  }
  function missingHashtags(text, hashtags) {
    var out = [];
    hashtags.forEach(function (raw) {
      var name = String(raw).trim().replace(/^#+/, "");
      var known = out.some(function (n) { return n.toLowerCase() === name.toLowerCase(); });
      if (name && !contains(text, name) && !known) { out.push(name); }
    });
    return out;
  }
  function withHashtags(text, hashtags) {
    var missing = missingHashtags(text, hashtags);
    if (!missing.length) { return text; }
    var tail = missing.map(function (n) { return "#" + n; }).join(" ");
    var body = text.replace(new RegExp("[" + S + "]+$", "u"), "");
    return body ? body + "\n\n" + tail : tail;
  }
  // The text a channel of ``kind`` sends (the adapters' composed_text; platforms/compose.py).
  function composed(kind, text, hashtags) {
    return HASHTAG_KINDS.indexOf(kind) >= 0 ? withHashtags(text, hashtags || []) : text;
  }

  window.EngageCounting = {
    countFor: countFor, composed: composed, withHashtags: withHashtags, smsParts: smsParts,
    nonGsm: nonGsm, graphemeCount: graphemeCount, xLength: xLength, mastodonLength: mastodonLength
  };
})();
