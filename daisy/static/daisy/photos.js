/* Clinical photos (issue 14, item 7). Each piece works on its own and the pages work without
   this file: the ghost then shows at a fixed strength, the comparison side by side.
   - A ghost range sets how strongly the baseline shows over this session's photo.
   - A chosen or just-taken photo is shown under the ghost before it is saved, to check the
     alignment (read as a data: address, which the CSP allows for images).
   - The comparison slider is a real range input (arrow keys, Home, End): it moves the cut
     between session 1 (left) and session N (right) and says where it is. */
(function () {
  "use strict";
  function ghosts() {
    document.querySelectorAll("[data-ghost-range]").forEach(function (range) {
      var ghost = document.getElementById(range.getAttribute("data-ghost-range"));
      if (!ghost) { return; }
      function apply() { ghost.style.opacity = String(Number(range.value) / 100); }
      range.addEventListener("input", apply);
      apply();
    });
  }
  function previews() {
    document.querySelectorAll("[data-preview-input]").forEach(function (input) {
      input.addEventListener("change", function () {
        var card = input.closest(".photo-card");
        var img = card && card.querySelector("[data-preview]");
        var file = input.files && input.files[0];
        if (!img || !file || !window.FileReader) { return; }
        var reader = new FileReader();
        reader.onload = function () {
          img.src = String(reader.result);
          img.hidden = false;
          var taken = card.querySelector("[data-taken]");
          if (taken) { taken.hidden = true; }
          var empty = card.querySelector("[data-empty]");
          if (empty) { empty.hidden = true; }
        };
        reader.readAsDataURL(file);
      });
    });
  }
  function sliders() {
    document.querySelectorAll("[data-compare]").forEach(function (box) {
      var range = box.querySelector("[data-compare-range]");
      var after = box.querySelector("[data-compare-after]");
      var line = box.querySelector("[data-compare-line]");
      if (!range || !after) { return; }
      var words = range.getAttribute("data-valuetext") || "";
      function apply() {
        var pct = Number(range.value);
        after.style.clipPath = "inset(0 0 0 " + pct + "%)";
        if (line) { line.style.left = pct + "%"; }
        if (words) { range.setAttribute("aria-valuetext", words.replace("{pct}", pct + "%")); }
      }
      range.addEventListener("input", apply);
      apply();
    });
  }
  function start() { ghosts(); previews(); sliders(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
