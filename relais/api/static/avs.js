// The AVS number checked as it is typed: 13 digits starting with 756, and the EAN-13 check
// digit (the same rule as cases/domain/avs.py). The server checks again; this only tells
// the person sooner. The message sits under the field, read out politely.
(function () {
  "use strict";
  function checkDigit(first12) {
    var total = 0;
    for (var i = 0; i < 12; i++) {
      total += Number(first12[i]) * (i % 2 ? 3 : 1);
    }
    return (10 - (total % 10)) % 10;
  }
  function verdict(text) {
    var digits = text.replace(/[.\s]/g, "");
    if (!digits) return "empty";
    if (!/^756\d{10}$/.test(digits)) return digits.length < 13 && /^\d*$/.test(digits) ? "typing" : "format";
    return checkDigit(digits.slice(0, 12)) === Number(digits[12]) ? "ok" : "check";
  }
  function attach(input) {
    var message = document.getElementById(input.id + "-error");
    if (!message) return;
    function show(final) {
      var v = verdict(input.value);
      // while the person is still typing digits, say nothing until the field is left
      if (v === "typing" && final) v = "format";
      var text = {format: input.dataset.msgFormat, check: input.dataset.msgCheck,
                  ok: input.dataset.msgOk}[v] || "";
      if (v === "typing" || v === "empty") text = "";
      message.textContent = text;
      message.className = v === "ok" ? "field-ok" : "field-error";
      if (v === "format" || v === "check") input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    input.addEventListener("input", function () { show(false); });
    input.addEventListener("blur", function () { show(true); });
  }
  document.querySelectorAll("input[data-avs]").forEach(attach);
  window.relaisAvs = attach;  // for fields that arrive later (referral.js)
})();
