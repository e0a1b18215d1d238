/* The held time's countdown (issue 12 item 8; WCAG 2.2.1 Timing Adjustable): how long is left,
   a warning a minute before the hold ends (with the "Keep this time for longer" button next to
   it), and a plain message once it has ended. The page says the end time in words without this
   file, and the button works without it. */
(function () {
  "use strict";
  var timer = null;
  function left(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function start() {
    if (timer) { clearInterval(timer); timer = null; }
    var box = document.querySelector("[data-hold-expires]");
    if (!box) { return; }
    // Seconds left as the server counted them when it made the page: the device's own clock
    // may be minutes off, so only the time elapsed since then is measured here.
    var ends = Date.now() + 1000 * (parseInt(box.getAttribute("data-hold-seconds"), 10) || 0);
    var warnAt = parseInt(box.getAttribute("data-hold-warn"), 10) || 60;
    var clock = box.querySelector("[data-hold-left]");
    var warning = box.querySelector("[data-hold-warning]");
    var state = "";
    function tick() {
      var seconds = Math.max(0, Math.round((ends - Date.now()) / 1000));
      clock.hidden = false;
      clock.textContent = "(" + left(seconds) + ")";
      var now = seconds === 0 ? "ended" : (seconds <= warnAt ? "soon" : "");
      if (now !== state) {
        state = now;
        warning.textContent = now ? warning.getAttribute("data-" + now) : "";
        box.classList.toggle("warning", !!now);
        box.classList.toggle("info", !now);
      }
      if (seconds === 0) { clearInterval(timer); timer = null; }
    }
    tick();
    timer = setInterval(tick, 1000);
  }
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSwap", start);
})();
