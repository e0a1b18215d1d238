// The consent signature (issue 14): a drawn signature on a canvas with pointer events, so a
// finger, a stylus and a mouse all work; the keyboard's way is the typed full name, which
// works without this file. No inline script: the CSP allows only files from the site.
(function () {
  "use strict";

  function init(form) {
    var pad = form.querySelector("[data-signature-pad]");
    var canvas = pad && pad.querySelector("canvas");
    var input = form.querySelector("[data-signature-input]");
    var drawnChoice = form.querySelector("[data-method-drawn]");
    if (!pad || !canvas || !input || !drawnChoice || !canvas.getContext) return;
    var drawn = drawnChoice.querySelector("input");
    var radios = form.querySelectorAll("input[name='method']");
    var state = pad.querySelector("[data-signature-state]");
    var ctx = canvas.getContext("2d");
    var strokes = 0;
    var drawing = false;
    var last = null;

    drawnChoice.hidden = false;
    // A fresh page signs by drawing; a page sent back with an error keeps the choice made.
    if (!form.querySelector("[aria-invalid='true']") && !form.querySelector(".field-error")) {
      drawn.checked = true;
    }

    function sync() {
      pad.hidden = !drawn.checked;
    }
    Array.prototype.forEach.call(radios, function (radio) {
      radio.addEventListener("change", sync);
    });
    sync();

    ctx.lineWidth = 4;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    ctx.fillStyle = "#111";

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: ((event.clientX - box.left) * canvas.width) / box.width,
        y: ((event.clientY - box.top) * canvas.height) / box.height,
      };
    }

    function save() {
      input.value = strokes ? canvas.toDataURL("image/png") : "";
      state.textContent = strokes ? state.dataset.done : state.dataset.empty;
    }
    state.dataset.empty = state.textContent;

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) return;
      event.preventDefault();
      try {
        canvas.setPointerCapture(event.pointerId);
      } catch (e) {
        // A pointer the browser no longer knows (or none): drawing works without capture.
      }
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      if (!events.length) events = [event];
      events.forEach(function (e) {
        var p = point(e);
        ctx.beginPath();
        ctx.moveTo(last.x, last.y);
        ctx.lineTo(p.x, p.y);
        ctx.stroke();
        last = p;
      });
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      strokes += 1;
      save();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("lostpointercapture", end);

    var clear = pad.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        strokes = 0;
        save();
      });
    }
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-consent-form]"), init);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
