/* Scenario pages: the trigger and step forms show only the fields of the chosen kind (and, for a
 * notification, of the chosen channel). A field says when it applies with
 * data-show-if="kind=build quality; channel=email" (every condition must hold; see
 * scenarios.forms). Loaded from this server only (the CSP forbids inline scripts). Without
 * JavaScript every field shows, and the server ignores those the chosen kind does not use. */
(function () {
  "use strict";

  function valueOf(form, name) {
    var field = form.elements.namedItem(name);
    return field ? field.value : null;
  }

  function applies(form, rule) {
    return rule.split(";").every(function (part) {
      var eq = part.indexOf("=");
      if (eq < 0) return true;
      var value = valueOf(form, part.slice(0, eq).trim());
      var allowed = part.slice(eq + 1).trim().split(/\s+/);
      return value === null || allowed.indexOf(value) >= 0;
    });
  }

  function update(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (input) {
      var wrapper = input.closest(".field") || input;
      /* A field with an error always shows, so the message can be read and acted on. */
      wrapper.hidden = !wrapper.classList.contains("has-error") && !applies(form, input.getAttribute("data-show-if"));
    });
  }

  function updateWithin(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-show-if]")) update(form);
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target && event.target.form;
    if (form && form.querySelector("[data-show-if]")) update(form);
  });
  document.addEventListener("htmx:afterSwap", function (event) { updateWithin(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { updateWithin(document); });
  } else {
    updateWithin(document);
  }
})();
