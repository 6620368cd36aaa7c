/* Modelworks page behaviour. Loaded from this server only; the CSP forbids inline scripts.
 * Everything here is a convenience: every page and form also works without JavaScript. */
(function () {
  "use strict";

  /* Copy a secret shown once (API token, one-time password) to the clipboard. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) return;
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  /* Dismiss a message. */
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-dismiss]");
    if (close && close.parentElement) close.parentElement.remove();
  });

  /* Close an open menu when clicking elsewhere or pressing Escape. */
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  /* Suggest a project's short name from its name, until the user edits the short name. */
  function slugify(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "");
  }
  document.addEventListener("input", function (event) {
    var source = event.target.closest("[data-slug-source]");
    if (source) {
      var slug = document.getElementById(source.getAttribute("data-slug-source"));
      if (slug && slug.dataset.edited !== "true") slug.value = slugify(source.value);
      return;
    }
    if (event.target.id === "id_slug") event.target.dataset.edited = event.target.value ? "true" : "false";
  });

  /* Typed confirmation: the delete button stays disabled until the exact name is typed. */
  function syncConfirm(input) {
    var form = input.form;
    var button = form && form.querySelector("[data-confirm-button]");
    if (button) button.disabled = input.value.trim() !== input.getAttribute("data-confirm-match");
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-confirm-match]")) syncConfirm(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-confirm-match]").forEach(syncConfirm);
  });

  /* Keep a job's log scrolled to the newest line, unless the reader scrolled up. */
  document.addEventListener("htmx:oobBeforeSwap", function () {
    document.querySelectorAll("[data-follow-log]").forEach(function (box) {
      box.dataset.atBottom = String(box.scrollHeight - box.scrollTop - box.clientHeight < 24);
    });
  });
  document.addEventListener("htmx:oobAfterSwap", function () {
    /* Two answers in flight at once (a poll and the Cancel button) may carry the same lines:
     * keep the first copy of each line number. */
    var seen = {};
    document.querySelectorAll("#job-log-lines [data-seq]").forEach(function (line) {
      var seq = line.getAttribute("data-seq");
      if (seen[seq]) line.remove(); else seen[seq] = true;
    });
    document.querySelectorAll("[data-follow-log]").forEach(function (box) {
      if (box.dataset.atBottom !== "false") box.scrollTop = box.scrollHeight;
    });
  });

  /* Errors of HTMX requests are shown in the message area, in plain words. */
  function showError(text) {
    var area = document.getElementById("messages");
    if (!area) { window.alert(text); return; }
    var alert = document.createElement("div");
    alert.className = "alert alert-error";
    alert.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "alert-close";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "Dismiss this message");
    close.textContent = "\u00d7";
    alert.appendChild(p);
    alert.appendChild(close);
    area.replaceChildren(alert);
  }
  var FALLBACK = {
    403: "You do not have permission to do this.",
    404: "That item no longer exists, or you are no longer a member of its project. Reload the page.",
    500: "The server failed to finish this action. Try again; if it keeps failing, tell your administrator."
  };
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var node = doc.querySelector("[data-error-message]");
      if (node) text = node.textContent.trim();
    } catch (e) { text = ""; }
    showError(text || FALLBACK[xhr.status] || ("The server refused this action (error " + xhr.status + "). Reload the page and try again."));
  });
  document.addEventListener("htmx:sendError", function () {
    showError("The server did not answer. Check that it is running and your network connection, then try again.");
  });
})();
