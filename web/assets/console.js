// breachd console: the little that needs a script. Everything works without it; it adds the upload
// progress bar, a confirm step on the send button, focus on the error summary, and a live "what the
// law requires" preview on the determination form (the form's own preview button, sent in the
// background as the form changes: the server renders the plan, nothing is stored).
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }

    document.querySelectorAll("form.confirm").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm("Send the notices now? This cannot be undone.")) { ev.preventDefault(); }
      });
    });

    document.querySelectorAll("form.determination").forEach(function (form) {
      var preview = document.getElementById("preview");
      if (!preview || !window.fetch || !window.DOMParser) { return; }
      var timer = null, asked = 0;
      var refresh = function () {
        var n = ++asked;
        var body = new URLSearchParams(new FormData(form));
        body.set("action", "preview");
        // form.action would be the button named "action": the attribute is the address.
        fetch(form.getAttribute("action") || window.location.href, { method: "POST", body: body, credentials: "same-origin" })
          .then(function (res) { return res.text(); })
          .then(function (html) {
            if (n !== asked) { return; } // a later change is on its way
            var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("preview");
            if (fresh) { preview.innerHTML = fresh.innerHTML; }
          })
          .catch(function () { /* the button still works */ });
      };
      var soon = function () { clearTimeout(timer); timer = setTimeout(refresh, 400); };
      form.addEventListener("change", soon);
      form.addEventListener("input", function (ev) { if (ev.target.type !== "checkbox" && ev.target.type !== "radio") { soon(); } });
    });

    document.querySelectorAll("form.upload").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        var input = form.querySelector("input[type=file]");
        if (!input || !input.files || input.files.length === 0 || !window.XMLHttpRequest || !window.FormData) { return; }
        ev.preventDefault();
        var box = document.getElementById(form.getAttribute("data-progress"));
        var bar = box.querySelector("progress");
        var text = box.querySelector(".progress-text");
        box.hidden = false;
        var button = form.querySelector("button[type=submit]");
        button.disabled = true;
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.responseType = "document";
        xhr.setRequestHeader("X-CSRF-Token", form.querySelector("input[name=csrf]").value);
        xhr.upload.addEventListener("progress", function (e) {
          if (!e.lengthComputable) { return; }
          var pct = Math.floor(e.loaded * 100 / e.total);
          bar.value = pct;
          text.textContent = pct + "% sent";
        });
        xhr.upload.addEventListener("load", function () {
          bar.value = 100;
          text.textContent = "Sent. Checking every row…";
        });
        xhr.addEventListener("load", function () {
          // The answer is the report page: show it in place of this one.
          var doc = xhr.response;
          if (doc && doc.documentElement) {
            document.replaceChild(document.importNode(doc.documentElement, true), document.documentElement);
            window.scrollTo(0, 0);
            var h1 = document.querySelector("h1");
            if (h1) { h1.setAttribute("tabindex", "-1"); h1.focus(); }
          } else {
            text.textContent = "The upload failed. Reload the page and try again.";
            button.disabled = false;
          }
        });
        xhr.addEventListener("error", function () {
          text.textContent = "The upload failed: the connection was lost. Try again.";
          button.disabled = false;
        });
        xhr.send(new FormData(form));
      });
    });
  });
})();
