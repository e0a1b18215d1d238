// The front desk's small helpers; every page works without this file.
// On today's diary, the "now" line is scrolled into view when the page opens.
(function () {
  "use strict";
  function showNow() {
    var line = document.getElementById("diary-now");
    var wrap = document.querySelector(".diary-wrap");
    if (line && wrap && !wrap.dataset.scrolled) {
      wrap.dataset.scrolled = "1";
      wrap.scrollTop = Math.max(0, line.offsetTop - wrap.clientHeight / 3);
    }
  }
  document.addEventListener("DOMContentLoaded", showNow);

  // The panel's Close button (and Escape) put the empty panel back and the focus on the
  // appointment that was open.
  var lastOpened = null;
  document.addEventListener("click", function (event) {
    var appt = event.target.closest && event.target.closest("a.appt");
    if (appt) lastOpened = appt.dataset.appointment;
    if (event.target.closest && event.target.closest("[data-panel-close]")) closePanel();
  });
  function closePanel() {
    var panel = document.getElementById("panel");
    if (!panel || panel.classList.contains("panel-empty")) return;
    var empty = document.createElement("div");
    empty.id = "panel";
    empty.className = "panel panel-empty";
    panel.replaceWith(empty);
    var back = lastOpened && document.querySelector('a.appt[data-appointment="' + lastOpened + '"]');
    if (back) back.focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });
  // A panel loaded by htmx takes the focus, so keyboard users land on it.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "panel") {
      var panel = document.getElementById("panel");
      if (panel && !panel.classList.contains("panel-empty")) panel.focus();
    }
  });
})();
