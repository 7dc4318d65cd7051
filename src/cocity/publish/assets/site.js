/* cocity published site: the unit search box and clickable maps. No network, no inline code:
   the unit index is assets/units-index.js (window.COCITY_UNITS = [[code, 中文名, English, level]]). */
(function () {
  "use strict";
  var body = document.body;
  var root = body.getAttribute("data-root") || "";
  var lang = body.getAttribute("data-lang") || "zh";
  var base = root + (lang === "en" ? "en/" : "");
  var units = window.COCITY_UNITS || [];

  function norm(text) {
    return String(text || "").toLowerCase().replace(/[\s\-–·']/g, "");
  }
  function short(name) {
    return name.replace(/(市|区|县|自治县)$/, "");
  }
  function matches(query) {
    var q = norm(query);
    if (!q) { return []; }
    var exact = [], other = [];
    units.forEach(function (u) {
      var code = u[0], zh = u[1], en = norm(u[2]);
      var hit = code.indexOf(q) === 0 || zh.indexOf(query.trim()) >= 0 ||
        en.indexOf(q) >= 0 || short(zh).indexOf(query.trim()) >= 0;
      if (hit) {
        (code === q || zh === query.trim() || short(zh) === query.trim() ||
          en.indexOf(q) === 0 ? exact : other).push(u);
      }
    });
    return exact.concat(other).slice(0, 12);
  }
  function href(code) { return base + "units/" + code + ".html"; }

  var input = document.getElementById("unit-search");
  var list = document.getElementById("unit-results");
  if (input && list) {
    var show = function () {
      var found = matches(input.value);
      while (list.firstChild) { list.removeChild(list.firstChild); }
      if (!input.value.trim()) { list.hidden = true; return; }
      if (!found.length) {
        var none = document.createElement("li");
        none.textContent = input.getAttribute("data-none");
        list.appendChild(none);
      }
      found.forEach(function (u) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = href(u[0]);
        a.textContent = (lang === "en" ? u[2] + " · " + u[1] : u[1] + " · " + u[2]) +
          " (" + u[0] + ")";
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = false;
    };
    input.addEventListener("input", show);
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        var found = matches(input.value);
        if (found.length) { window.location.href = href(found[0][0]); }
        ev.preventDefault();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".map[data-units]"), function (map) {
    var prefix = map.getAttribute("data-units");
    map.addEventListener("click", function (ev) {
      var target = ev.target;
      var code = target && target.getAttribute ? target.getAttribute("data-code") : null;
      if (code) { window.location.href = prefix + code + ".html"; }
    });
  });
}());
