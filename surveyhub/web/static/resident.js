/* Enhancements only: every page works without this script. */
(function () {
  "use strict";
  var VOICES = { nl: "nl-NL", en: "en-GB", tr: "tr-TR", ar: "ar", pl: "pl-PL" };

  // What a question says aloud: the question, its hint, then every answer to choose from.
  function spoken(question) {
    var parts = [];
    question.querySelectorAll(".question-text, .hint").forEach(function (el) { parts.push(el.textContent.trim()); });
    question.querySelectorAll(".option span").forEach(function (el) { parts.push(el.textContent.trim()); });
    return parts.filter(Boolean).join(". ");
  }

  // "Read aloud": one button per question, where the browser can speak (none at all otherwise).
  if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
    var lang = (document.documentElement.lang || "nl").split("-")[0];
    document.querySelectorAll("form[data-read-aloud]").forEach(function (form) {
      var label = form.getAttribute("data-read-aloud");
      form.querySelectorAll(".question").forEach(function (question) {
        var text = question.querySelector(".question-text");
        if (!text) { return; }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "read-aloud";
        button.setAttribute("aria-label", label + ": " + text.textContent.trim());
        button.innerHTML = '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
          '<path fill="currentColor" d="M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z' +
          'M14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z"/></svg>';
        var words = document.createElement("span");
        words.textContent = label;
        button.appendChild(words);
        button.addEventListener("click", function () {
          window.speechSynthesis.cancel();
          var utterance = new window.SpeechSynthesisUtterance(spoken(question));
          utterance.lang = VOICES[lang] || lang;
          window.speechSynthesis.speak(utterance);
        });
        text.insertAdjacentElement("afterend", button);
      });
    });
  }

  // Copy a link (the resident's own link): the text stays selectable without the script.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        var done = button.getAttribute("data-copied");
        if (done) { button.textContent = done; }
      });
    });
  });

  // Without this script a form's action names where to scroll after sending (#page-check, #consent-error);
  // with it, the focus below does that, and the next page's address stays clean.
  document.querySelectorAll("form[action^='#']").forEach(function (form) {
    form.setAttribute("action", window.location.pathname + window.location.search);
  });

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

  // A problem on the page (an error, the consent box, "nothing filled in") takes the focus and comes into view.
  var check = document.querySelector(".page-check, #consent-error, .error-summary");
  if (check) {
    if (!check.hasAttribute("tabindex")) { check.setAttribute("tabindex", "-1"); }
    check.focus();
    if (check.scrollIntoView) { check.scrollIntoView({ block: "center" }); }
  }
}());
