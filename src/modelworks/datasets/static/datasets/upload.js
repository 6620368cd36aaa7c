/* Upload progress: htmx reports the bytes sent (htmx:xhr:progress); this moves the bar of the
 * upload form. Without JavaScript the form still posts normally, just without a bar. */
(function () {
  "use strict";
  function bar(form) { return form && form.querySelector("[data-upload-bar]"); }
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("[data-upload-progress]") : null;
    var box = bar(form);
    if (!box || !event.detail.lengthComputable) return;
    var pct = Math.min(100, Math.round((100 * event.detail.loaded) / Math.max(event.detail.total, 1)));
    box.hidden = false;
    box.querySelector(".progress").setAttribute("aria-valuenow", String(pct));
    box.querySelector(".progress-bar").style.width = pct + "%";
    box.querySelector(".progress-value").textContent = pct + " %";
    box.querySelector("[data-upload-status]").textContent =
      pct < 100 ? "Uploading…" : "Uploaded. Starting the import…";
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = bar(event.target.closest ? event.target.closest("[data-upload-progress]") : null);
    if (box) box.hidden = false;
  });
})();
