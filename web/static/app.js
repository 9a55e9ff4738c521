// Atrium console enhancements. Every page works without this file.
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

  // Agreement signing: the button is enabled once the box is ticked.
  document.querySelectorAll("[data-agree-form]").forEach(function (form) {
    var box = form.querySelector("[data-agree]");
    var button = form.querySelector("[data-agree-submit]");
    if (!box || !button) return;
    var sync = function () { button.disabled = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });

  // Password rules are ticked as the user types (the server checks them all again).
  document.querySelectorAll("[data-new-password]").forEach(function (input) {
    var rules = document.getElementById("pw-rules");
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
})();
