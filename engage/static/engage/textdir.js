/* Text areas take their writing direction from the language chosen for them: a text area with
   data-dir-from="<id of the language field>" gets dir="rtl" for the languages in its data-rtl
   (settings.LANGUAGES_BIDI: Arabic, Farsi, Urdu, Pashto, Sorani...), else dir="ltr", and lang.
   The server renders the right direction for the language it knows; this keeps it right when the
   language changes. No framework, no inline script. */
(function () {
  "use strict";
  document.querySelectorAll("textarea[data-dir-from]").forEach(function (area) {
    var source = document.getElementById(area.getAttribute("data-dir-from"));
    if (!source) { return; }
    var rtl = (area.getAttribute("data-rtl") || "").split(/\s+/).filter(Boolean);
    function apply() {
      var lang = source.value || "en";
      area.setAttribute("dir", rtl.indexOf(lang.split("-")[0].toLowerCase()) >= 0 ? "rtl" : "ltr");
      area.setAttribute("lang", lang);
    }
    source.addEventListener("change", apply);
    source.addEventListener("input", apply);
    apply();
  });
})();
