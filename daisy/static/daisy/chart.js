// The treatment chart's face map: each zone is a button that ticks its row of the form, and
// the row's depth is written on the zone. The form works without this file.
(function () {
  "use strict";
  function row(key) { return document.querySelector('[data-zone-row="' + key + '"]'); }
  function box(key) { var r = row(key); return r && r.querySelector('input[type="checkbox"]'); }
  function paint(key) {
    var input = box(key);
    if (!input) return;
    var on = input.checked;
    var zone = document.querySelector('.face-map .zone[data-zone="' + key + '"]');
    if (zone) {
      zone.classList.toggle("is-on", on);
      zone.setAttribute("aria-pressed", on ? "true" : "false");
    }
    row(key).classList.toggle("is-on", on);
    var label = document.querySelector('[data-zone-depth="' + key + '"]');
    var depth = row(key).querySelector('input[name$="_depth"]');
    if (label) label.textContent = on && depth ? depth.value : "";
  }
  function toggle(key) {
    var input = box(key);
    if (!input) return;
    input.checked = !input.checked;
    paint(key);
  }
  document.addEventListener("click", function (event) {
    var zone = event.target.closest && event.target.closest(".face-map .zone");
    if (zone) toggle(zone.getAttribute("data-zone"));
  });
  document.addEventListener("keydown", function (event) {
    var zone = event.target.closest && event.target.closest(".face-map .zone");
    if (zone && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      toggle(zone.getAttribute("data-zone"));
    }
  });
  document.addEventListener("change", function (event) {
    var r = event.target.closest && event.target.closest("[data-zone-row]");
    if (r) paint(r.getAttribute("data-zone-row"));
  });
  document.addEventListener("input", function (event) {
    var r = event.target.closest && event.target.closest("[data-zone-row]");
    if (r) paint(r.getAttribute("data-zone-row"));
  });
})();
