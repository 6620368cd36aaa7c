/* Flow pages: zoom, pan and selection on the flow graph, and the recipe editor's conveniences.
 * Loaded from this server only (the CSP forbids inline scripts). Listeners sit on the document, so
 * parts swapped in by HTMX work without setup. Without JavaScript the graph's nodes are plain links
 * and every editor button posts the form. */
(function () {
  "use strict";

  var MIN_SCALE = 0.08, MAX_SCALE = 3, STEP = 1.25;
  /* The view (x, y, k) and selection survive the canvas being refreshed while a build runs. */
  var kept = null;

  function canvasOf(el) { return el && el.closest ? el.closest("[data-flow-canvas]") : null; }
  function viewportOf(canvas) { return canvas.querySelector("[data-flow-viewport]"); }
  function svgOf(canvas) { return canvas.querySelector("[data-flow-svg]"); }

  function current(canvas) {
    var v = viewportOf(canvas);
    return { x: Number(v.dataset.x || 0), y: Number(v.dataset.y || 0), k: Number(v.dataset.k || 1) };
  }

  function apply(canvas, view) {
    var v = viewportOf(canvas);
    if (!v) return;
    view.k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.k));
    v.dataset.x = String(view.x);
    v.dataset.y = String(view.y);
    v.dataset.k = String(view.k);
    v.setAttribute("transform", "translate(" + view.x.toFixed(1) + "," + view.y.toFixed(1) + ") scale(" + view.k.toFixed(4) + ")");
    var level = canvas.querySelector("[data-flow-zoom-level]");
    if (level) level.textContent = Math.round(view.k * 100) + " %";
    kept = { x: view.x, y: view.y, k: view.k, selected: kept ? kept.selected : null };
  }

  /* The whole drawing in view (never enlarged beyond 100 %), centred. */
  function fit(canvas) {
    var svg = svgOf(canvas);
    var w = Number(svg.dataset.width) || 1, h = Number(svg.dataset.height) || 1;
    var rect = svg.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    var k = Math.min(rect.width / w, rect.height / h, 1) * 0.96;
    apply(canvas, { k: k, x: (rect.width - w * k) / 2, y: Math.max(8, (rect.height - h * k) / 2) });
  }

  /* Zoom by `factor` keeping the drawing point under (px, py) (pixels in the SVG) where it is. */
  function zoomAt(canvas, factor, px, py) {
    var view = current(canvas);
    var k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.k * factor));
    var wx = (px - view.x) / view.k, wy = (py - view.y) / view.k;
    apply(canvas, { k: k, x: px - wx * k, y: py - wy * k });
  }

  function zoomCentre(canvas, factor) {
    var rect = svgOf(canvas).getBoundingClientRect();
    zoomAt(canvas, factor, rect.width / 2, rect.height / 2);
  }

  function pan(canvas, dx, dy) {
    var view = current(canvas);
    apply(canvas, { k: view.k, x: view.x + dx, y: view.y + dy });
  }

  function setup(canvas, restore) {
    if (!canvas || canvas.dataset.ready === "true") return;
    canvas.dataset.ready = "true";
    if (restore && kept) {
      apply(canvas, { x: kept.x, y: kept.y, k: kept.k });
      if (kept.selected) {
        var node = canvas.querySelector('[data-node="' + kept.selected + '"]');
        if (node) select(node); else clearSelection();
      }
    } else {
      fit(canvas);
      focusOn(canvas, canvas.getAttribute("data-flow-focus"));
    }
  }

  /* Select the node named by ?focus= (a dataset's "Show in the Flow") and centre it at 100 %. */
  function focusOn(canvas, id) {
    var node = id ? canvas.querySelector('[data-node="' + id + '"]') : null;
    var box = node ? node.querySelector(".flow-box") : null;
    if (!node || !box) return;
    select(node);
    var rect = svgOf(canvas).getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    var b = box.getBBox();
    apply(canvas, { k: 1, x: rect.width / 2 - (b.x + b.width / 2), y: rect.height / 2 - (b.y + b.height / 2) });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-flow-canvas]").forEach(function (c) { setup(c, false); });
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-flow-canvas]").forEach(function (c) { setup(c, true); });
  });

  /* ---------------------------------------------------------------- wheel, buttons, keys */
  document.addEventListener("wheel", function (event) {
    var canvas = canvasOf(event.target);
    if (!canvas) return;
    event.preventDefault();
    var rect = svgOf(canvas).getBoundingClientRect();
    var factor = Math.exp(-Math.max(-100, Math.min(100, event.deltaY)) / 300);
    zoomAt(canvas, factor, event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-flow-zoom]");
    if (!button) return;
    var canvas = canvasOf(button);
    var how = button.getAttribute("data-flow-zoom");
    if (how === "fit") fit(canvas);
    else zoomCentre(canvas, how === "in" ? STEP : 1 / STEP);
  });

  document.addEventListener("keydown", function (event) {
    var canvas = canvasOf(event.target);
    if (!canvas || event.ctrlKey || event.metaKey || event.altKey) return;
    var node = event.target.closest("[data-node]");
    var moves = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };
    if (event.key === "+" || event.key === "=") { zoomCentre(canvas, STEP); }
    else if (event.key === "-" || event.key === "_") { zoomCentre(canvas, 1 / STEP); }
    else if (event.key === "0") { fit(canvas); }
    else if (moves[event.key] && !node) { pan(canvas, moves[event.key][0], moves[event.key][1]); }
    else if (event.key === " " && node) { select(node); }
    else if (event.key === "Escape") { clearSelection(); return; }
    else { return; }
    event.preventDefault();
  });

  /* ---------------------------------------------------------------- drag to pan */
  var drag = null;
  document.addEventListener("pointerdown", function (event) {
    var canvas = canvasOf(event.target);
    if (!canvas || event.button !== 0 || event.target.closest(".flow-zoom")) return;
    drag = { canvas: canvas, x: event.clientX, y: event.clientY, start: current(canvas), moved: false };
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) return;
    drag.moved = true;
    drag.canvas.classList.add("is-panning");
    apply(drag.canvas, { k: drag.start.k, x: drag.start.x + dx, y: drag.start.y + dy });
  });
  document.addEventListener("pointerup", function () {
    if (!drag) return;
    var moved = drag.moved;
    drag.canvas.classList.remove("is-panning");
    /* The click that ends a drag must not select or open a node. */
    if (moved) {
      var swallow = function (e) { e.preventDefault(); e.stopPropagation(); };
      document.addEventListener("click", swallow, { capture: true, once: true });
      setTimeout(function () { document.removeEventListener("click", swallow, { capture: true }); }, 0);
    }
    drag = null;
  });

  /* ---------------------------------------------------------------- selection */
  function panel() { return document.getElementById("flow-selection"); }

  function clearSelection() {
    document.querySelectorAll("[data-node].is-selected").forEach(function (n) { n.classList.remove("is-selected"); });
    document.querySelectorAll(".flow-edge.is-highlighted").forEach(function (e) { e.classList.remove("is-highlighted"); });
    var p = panel();
    if (p) {
      p.querySelector("[data-selection]").hidden = true;
      p.querySelector("[data-selection-empty]").hidden = false;
    }
    if (kept) kept.selected = null;
  }

  function select(node) {
    clearSelection();
    node.classList.add("is-selected");
    var id = node.getAttribute("data-node");
    document.querySelectorAll('.flow-edge[data-from="' + id + '"], .flow-edge[data-to="' + id + '"]').forEach(function (e) {
      e.classList.add("is-highlighted");
    });
    if (kept) kept.selected = id; else kept = { x: 0, y: 0, k: 1, selected: id };
    var p = panel();
    if (!p) return;
    var show = function (sel, text) { var el = p.querySelector(sel); if (el) el.textContent = text; };
    show("[data-sel-kind]", node.getAttribute("data-kind-label"));
    show("[data-sel-name]", node.getAttribute("data-name"));
    show("[data-sel-state]", node.getAttribute("data-state-label"));
    show("[data-sel-detail]", node.getAttribute("data-detail"));
    var swatch = p.querySelector("[data-sel-swatch]");
    if (swatch) swatch.className = "legend-swatch state-" + node.getAttribute("data-state");
    var open = p.querySelector("[data-sel-open]");
    if (open) {
      open.href = node.getAttribute("href");
      open.textContent = node.getAttribute("data-kind") === "dataset" ? "Open dataset" : "Open recipe";
    }
    var newRecipe = p.querySelector("[data-sel-new-recipe]");
    if (newRecipe) {
      var url = node.getAttribute("data-new-recipe");
      newRecipe.hidden = !url;
      if (url) newRecipe.href = url;
    }
    var build = p.querySelector("[data-sel-build]");
    if (build) {
      build.hidden = node.getAttribute("data-buildable") !== "1";
      build.querySelector("[data-sel-node]").value = id;
    }
    p.querySelector("[data-selection-empty]").hidden = true;
    p.querySelector("[data-selection]").hidden = false;
  }

  document.addEventListener("click", function (event) {
    var node = event.target.closest && event.target.closest("[data-node]");
    if (!node) return;
    /* Keyboard activation (Enter) and modified clicks open the page, as links do. */
    if (event.detail === 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    select(node);
  });
  document.addEventListener("dblclick", function (event) {
    var node = event.target.closest && event.target.closest("[data-node]");
    if (node) window.location.assign(node.getAttribute("href"));
  });

  /* ---------------------------------------------------------------- recipe editor */
  /* Filter the processor picker as the user types. */
  document.addEventListener("input", function (event) {
    var search = event.target.closest("[data-processor-search]");
    if (!search) return;
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var panelEl = search.closest(".processor-panel");
    var shown = 0;
    panelEl.querySelectorAll("[data-processor]").forEach(function (item) {
      var text = item.getAttribute("data-search");
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      item.hidden = !match;
      if (match) shown += 1;
    });
    panelEl.querySelectorAll("[data-processor-group]").forEach(function (group) {
      group.hidden = !group.querySelector("[data-processor]:not([hidden])");
    });
    var none = panelEl.querySelector("[data-processor-none]");
    if (none) none.hidden = shown > 0;
  });
  /* Enter in the search box must not submit the editor form. */
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.closest && event.target.closest("[data-processor-search]")) {
      event.preventDefault();
      var first = event.target.closest(".processor-panel").querySelector("[data-processor]:not([hidden]) button");
      if (first) first.click();
    }
  });

  /* After the editor is redrawn, bring the step just added or moved into view. */
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.target || event.target.id !== "recipe-form") return;
    var step = document.querySelector("[data-focus-step]");
    if (step) {
      step.scrollIntoView({ block: "nearest", behavior: "smooth" });
      var first = step.querySelector(".step-fields input:not([type=hidden]), .step-fields select, .step-fields textarea");
      if (first && !document.activeElement.closest("#recipe-form .step")) first.focus({ preventScroll: true });
    }
  });

  /* Settings that apply in some modes only (a split at random, by condition or by time; a fill with
   * a constant or the previous value…) carry data-show-if="<field>=<mode> <mode>": show them when the
   * named field has one of those values. A field with an error always shows. Without JavaScript every
   * field shows, and the server drops those the chosen mode does not use. */
  function applyModes(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("#recipe-form [data-show-if], [data-show-if].param").forEach(function (el) {
      var form = el.closest("form");
      if (!form) return;
      var rule = el.getAttribute("data-show-if");
      var eq = rule.indexOf("=");
      var field = form.elements.namedItem(rule.slice(0, eq));
      var allowed = rule.slice(eq + 1).split(/\s+/).filter(Boolean);
      var applies = !field || allowed.indexOf(field.value) >= 0;
      el.hidden = !applies && !el.classList.contains("has-error");
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.form && event.target.form.querySelector("[data-show-if]")) applyModes(event.target.form);
  });
  document.addEventListener("htmx:afterSwap", function (event) { applyModes(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { applyModes(document); });
  } else {
    applyModes(document);
  }

  /* Tab in a code editor indents (Escape first, then Tab, to move on). */
  var escaped = false;
  document.addEventListener("keydown", function (event) {
    var area = event.target.closest && event.target.closest("[data-code-editor]");
    if (!area) return;
    if (event.key === "Escape") { escaped = true; return; }
    if (event.key === "Tab" && !event.shiftKey && !escaped) {
      event.preventDefault();
      var start = area.selectionStart, end = area.selectionEnd;
      area.setRangeText("    ", start, end, "end");
      return;
    }
    escaped = false;
  });
})();
