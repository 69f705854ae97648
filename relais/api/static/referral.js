// The referral's route first: choosing it brings that route's form in place, without a
// reload, keeping what was already typed about the person (same field names). Without
// JavaScript, the button beside the list does the same by loading the page.
(function () {
  "use strict";
  var select = document.getElementById("route-choice");
  if (!select || !window.fetch || !window.DOMParser) return;
  var button = select.form && select.form.querySelector("button[type=submit]");
  select.addEventListener("change", function () {
    if (!select.value) return;
    var url = "/dossiers/nouveau?route=" + encodeURIComponent(select.value);
    fetch(url, {credentials: "same-origin", headers: {Accept: "text/html"}})
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .getElementById(select.dataset.fields);
        var current = document.getElementById(select.dataset.fields);
        if (!fresh || !current) { window.location.assign(url); return; }
        current.querySelectorAll("input[name], textarea[name]").forEach(function (old) {
          if (old.type === "hidden" || old.type === "checkbox" || !old.value) return;
          var twin = fresh.querySelector('[name="' + old.name + '"]');
          if (twin && twin.type !== "hidden" && !twin.value) twin.value = old.value;
        });
        current.replaceWith(fresh);
        fresh.querySelectorAll("input[data-avs]").forEach(function (input) {
          if (window.relaisAvs) window.relaisAvs(input);
        });
        window.history.replaceState(null, "", url);
        if (button) button.hidden = true;
      })
      .catch(function () { window.location.assign(url); });
  });
})();
