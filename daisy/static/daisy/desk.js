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
})();
