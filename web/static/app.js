// Atrium console enhancements. Every page works without this file: the flows
// are plain pages; here they open in a dialog, the verification method shows
// only its own field, and "Send code" counts down to the next allowed resend.
(function () {
  "use strict";

  // The account menu is a <details>: close it on Escape or a click elsewhere.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details[data-menu][open]").forEach(function (d) {
      d.removeAttribute("open");
      d.querySelector("summary").focus();
    });
  });

  function enhance(root) {
    // Agreement signing: the button is enabled once the box is ticked.
    root.querySelectorAll("[data-agree-form]").forEach(function (form) {
      var box = form.querySelector("[data-agree]");
      var button = form.querySelector("[data-agree-submit]");
      if (!box || !button) return;
      var sync = function () { button.disabled = !box.checked; };
      box.addEventListener("change", sync);
      sync();
    });

    // Password rules are ticked as the user types (the server checks them all again).
    root.querySelectorAll("[data-new-password]").forEach(function (input) {
      var rules = root.querySelector("#pw-rules");
      if (!rules) return;
      var check = {
        length: function (v) { var n = Array.from(v).length; return n >= 8 && n <= 128; },
        letter_digit: function (v) { return /\p{L}/u.test(v) && /\p{Nd}/u.test(v); }
      };
      input.addEventListener("input", function () {
        Object.keys(check).forEach(function (k) {
          var li = rules.querySelector('[data-rule="' + k + '"]');
          if (li) li.classList.toggle("ok", check[k](input.value));
        });
      });
    });

    // Verify identity: show the password field or the code field with the
    // chosen channel's "Send code" button.
    root.querySelectorAll("form[data-verify]").forEach(function (form) {
      var sync = function () {
        var checked = form.querySelector('input[name="method"]:checked');
        var method = checked ? checked.value : "password";
        var pw = form.querySelector('[data-for="password"]');
        var code = form.querySelector('[data-for="code"]');
        if (pw) pw.hidden = method !== "password";
        if (code) code.hidden = method === "password";
        form.querySelectorAll(".send-code[data-channel]").forEach(function (b) {
          b.hidden = b.getAttribute("data-channel") !== method;
        });
      };
      form.querySelectorAll('input[name="method"]').forEach(function (r) { r.addEventListener("change", sync); });
      sync();
    });

    // Uploads: check the size and show a preview before sending (the server
    // checks everything again).
    root.querySelectorAll("form[data-upload]").forEach(function (form) {
      var input = form.querySelector('input[type="file"]');
      var preview = form.querySelector("[data-preview]");
      var empty = form.querySelector("[data-preview-empty]");
      var error = form.querySelector("#image-error");
      if (!input) return;
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        var max = parseInt(input.getAttribute("data-max-bytes"), 10);
        error.hidden = true;
        input.removeAttribute("aria-invalid");
        if (!file) return;
        if (file.size > max) {
          error.textContent = input.getAttribute("data-too-large");
          error.hidden = false;
          input.setAttribute("aria-invalid", "true");
          input.value = "";
          return;
        }
        if (preview) {
          preview.src = URL.createObjectURL(file);
          preview.hidden = false;
          if (empty) empty.hidden = true;
        }
      });
    });

    // "Send code" turns into a countdown until the next code may be sent.
    root.querySelectorAll("[data-countdown]").forEach(function (button) {
      var left = parseInt(button.getAttribute("data-countdown"), 10);
      var label = button.textContent;
      var template = button.getAttribute("data-resend-label") || "{s}";
      if (!(left > 0)) return;
      button.disabled = true;
      var tick = function () {
        if (left <= 0) {
          button.disabled = false;
          button.textContent = label;
          return;
        }
        button.textContent = template.replace("{s}", left);
        left--;
        setTimeout(tick, 1000);
      };
      tick();
    });
  }
  enhance(document);

  // Flows open in a dialog. The dialog shows the flow page's section and
  // submits its forms with fetch; a finished flow reloads Personal Center (or
  // goes to sign-in). Values typed into a form survive a re-render with errors.
  var dialog = null;
  function openDialog(url) {
    if (!window.fetch || typeof HTMLDialogElement !== "function") return false;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (res) {
      return res.text().then(function (html) { show(res, html, url); });
    });
    return true;
  }
  function show(res, html, url) {
    var target = new URL(res.url, location.href);
    if (res.redirected && target.pathname !== new URL(url, location.href).pathname) {
      location.assign(target.href);
      return;
    }
    var doc = new DOMParser().parseFromString(html, "text/html");
    var section = doc.querySelector("section.flow") || doc.querySelector("main");
    if (!section) { location.assign(target.href); return; }
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "flow-dialog";
      dialog.addEventListener("close", function () { dialog.innerHTML = ""; });
      document.body.appendChild(dialog);
    }
    var old = {};
    var before = dialog.querySelector("section.flow");
    var sameStep = before && before.getAttribute("data-step") === section.getAttribute("data-step");
    if (sameStep) dialog.querySelectorAll("input[name]").forEach(function (i) {
      if (i.type !== "hidden" && i.type !== "radio" && i.type !== "checkbox") old[i.name] = i.value;
    });
    dialog.innerHTML = "";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "dialog-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "×";
    close.addEventListener("click", function () { dialog.close(); });
    dialog.appendChild(document.importNode(section, true));
    dialog.appendChild(close);
    dialog.querySelectorAll("input[name]").forEach(function (i) {
      if (old[i.name] !== undefined && !i.value && i.type !== "hidden" && i.type !== "radio") i.value = old[i.name];
    });
    dialog.querySelectorAll("[data-close]").forEach(function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); dialog.close(); });
    });
    dialog.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var fd = new FormData(form, e.submitter);
        var data = form.enctype === "multipart/form-data" ? fd : new URLSearchParams(fd);
        fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (res) {
          return res.text().then(function (html) { show(res, html, url); });
        });
      });
    });
    enhance(dialog);
    if (!dialog.open) dialog.showModal();
    var focus = dialog.querySelector("[aria-invalid=true]") || dialog.querySelector("input:not([type=hidden]):not([type=radio]), button.btn-primary");
    if (focus) focus.focus();
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-dialog]");
    if (!a || e.metaKey || e.ctrlKey || e.shiftKey) return;
    if (openDialog(a.getAttribute("href"))) e.preventDefault();
  });
})();
