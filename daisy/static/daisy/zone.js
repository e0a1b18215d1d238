/* When the visitor's device is in another time zone than the clinic, say so and show each
   offered time in their own zone as well. The page is complete without this file. */
(function () {
  "use strict";
  function deviceZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }
  function clock(date, zone) {
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone
    }).format(date);
  }
  function label(zone) { return zone.split("/").pop().replace(/_/g, " "); }
  function annotate(root) {
    var note = document.querySelector("[data-zone-note]");
    if (!note) { return; }
    var clinicZone = note.getAttribute("data-location-zone");
    var mine = deviceZone();
    if (!mine || !clinicZone || mine === clinicZone) { return; }
    var sample = new Date();
    if (clock(sample, mine) === clock(sample, clinicZone)) { return; }
    note.textContent = note.getAttribute("data-message").replace("{device}", label(mine));
    note.hidden = false;
    (root || document).querySelectorAll("[data-utc]").forEach(function (el) {
      if (el.querySelector(".your-time")) { return; }
      var span = document.createElement("span");
      span.className = "your-time";
      span.textContent = " (" + clock(new Date(el.getAttribute("data-utc")), mine) + " " +
        label(mine) + ")";
      el.appendChild(span);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { annotate(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    annotate(document);
    // Keyboard and screen-reader users land on the new day (or week), not at the top of the page.
    var heading = document.getElementById("day-heading") || document.getElementById("week-heading");
    if (heading) { heading.focus(); }
  });
})();
