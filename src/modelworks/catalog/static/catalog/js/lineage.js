/* Panning and zooming of lineage drawings ([data-pan-zoom] SVGs), by changing their viewBox.
 * Drag to pan, wheel (or the +/−/Fit buttons) to zoom. Loaded from this server only (the CSP forbids
 * inline scripts). The drawing works without it: every node and column is a plain link.
 * Listeners are on the document, so drawings swapped in by HTMX work without setup. */
(function () {
  "use strict";

  function box(svg) {
    return svg.getAttribute("viewBox").split(/\s+/).map(Number);
  }
  function setBox(svg, b) {
    svg.setAttribute("viewBox", b.map(function (v) { return v.toFixed(1); }).join(" "));
  }
  function natural(svg) {
    return [0, 0, Number(svg.dataset.width), Number(svg.dataset.height)];
  }
  /* Zoom by `factor` (<1 zooms in) around the point (px, py) given as fractions of the view. */
  function zoom(svg, factor, px, py) {
    var b = box(svg), full = natural(svg);
    var w = Math.min(Math.max(b[2] * factor, full[2] / 20), full[2] * 4);
    var h = w * b[3] / b[2];
    setBox(svg, [b[0] + (b[2] - w) * px, b[1] + (b[3] - h) * py, w, h]);
  }

  document.addEventListener("wheel", function (event) {
    var svg = event.target.closest && event.target.closest("svg[data-pan-zoom]");
    if (!svg) return;
    event.preventDefault();
    var rect = svg.getBoundingClientRect();
    zoom(svg, event.deltaY < 0 ? 0.85 : 1 / 0.85, (event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height);
  }, { passive: false });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-zoom]");
    if (!button) return;
    var svg = button.closest("[data-lineage-canvas]").querySelector("svg[data-pan-zoom]");
    var how = button.getAttribute("data-zoom");
    if (how === "reset") setBox(svg, natural(svg));
    else zoom(svg, how === "in" ? 0.8 : 1.25, 0.5, 0.5);
  });

  var drag = null;
  document.addEventListener("pointerdown", function (event) {
    var svg = event.target.closest && event.target.closest("svg[data-pan-zoom]");
    if (!svg || event.button !== 0) return;
    drag = { svg: svg, x: event.clientX, y: event.clientY, start: box(svg), moved: false };
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    drag.svg.classList.add("is-panning");
    var rect = drag.svg.getBoundingClientRect();
    /* The drawing keeps its aspect ratio inside the element: one scale for both axes. */
    var scale = Math.max(drag.start[2] / rect.width, drag.start[3] / rect.height);
    setBox(drag.svg, [drag.start[0] - dx * scale, drag.start[1] - dy * scale, drag.start[2], drag.start[3]]);
  });
  document.addEventListener("pointerup", function () {
    if (!drag) return;
    drag.svg.classList.remove("is-panning");
    if (drag.moved) {
      /* A drag that ends on a node must not open it: swallow the click that follows. */
      var svg = drag.svg;
      var swallow = function (e) { e.preventDefault(); e.stopPropagation(); };
      svg.addEventListener("click", swallow, true);
      setTimeout(function () { svg.removeEventListener("click", swallow, true); }, 0);
    }
    drag = null;
  });
})();
