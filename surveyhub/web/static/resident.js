/* Enhancements only: every page works without this script. */
(function () {
  "use strict";
  // "Read aloud" per question, where the browser can speak.
  if ("speechSynthesis" in window) {
    var lang = document.documentElement.lang || "nl";
    var label = lang.indexOf("en") === 0 ? "Read aloud" : "Voorlezen";
    document.querySelectorAll(".question-text").forEach(function (el) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "read-aloud";
      button.textContent = label;
      button.setAttribute("aria-label", label + ": " + el.textContent.trim());
      button.addEventListener("click", function () {
        window.speechSynthesis.cancel();
        var utterance = new SpeechSynthesisUtterance(el.textContent.trim());
        utterance.lang = lang === "en" ? "en-GB" : "nl-NL";
        window.speechSynthesis.speak(utterance);
      });
      el.insertAdjacentElement("afterend", button);
    });
  }
  // One submission per click: a double click must not send the page twice.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
  // Coming back through the browser's back button must find the buttons usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
