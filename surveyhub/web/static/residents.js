/* The worker's residents pages, enhanced: copy buttons and "choose everyone" without a reload.
   Everything works without this script: links are selectable text, "choose everyone" is a link. */
(function () {
  "use strict";
  var status = document.querySelector(".copy-status");

  function say(text) {
    if (status) { status.textContent = text; }
  }

  // The clipboard API where the page may use it (https, localhost); else the old copy command on a hidden field.
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.top = "-1000px";
      document.body.appendChild(area);
      area.select();
      var done = false;
      try { done = document.execCommand("copy"); } catch (e) { done = false; }
      document.body.removeChild(area);
      if (done) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function message(name) {
    return status ? status.getAttribute("data-" + name) : "";
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button.getAttribute("data-copy")).then(function () {
        say(message("copied"));
      }, function () {
        say(message("failed"));
      });
    });
  });

  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[type=checkbox][name=participant]"));

  var copySelected = document.querySelector("[data-copy-selected]");
  if (copySelected) {
    copySelected.hidden = false;
    copySelected.addEventListener("click", function () {
      var links = boxes.filter(function (box) { return box.checked; })
        .map(function (box) { return box.getAttribute("data-link"); });
      if (!links.length) { say(message("none")); return; }
      copy(links.join("\n")).then(function () {
        say(message("copied-n") + " " + links.length);
      }, function () {
        say(message("failed"));
      });
    });
  }

  // "Choose everyone" / "Choose nobody": without the script a link that reloads the page with every box ticked.
  var selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    selectAll.addEventListener("click", function (event) {
      event.preventDefault();
      var choose = boxes.some(function (box) { return !box.checked; });
      boxes.forEach(function (box) { box.checked = choose; });
      selectAll.textContent = selectAll.getAttribute(choose ? "data-label-none" : "data-label-all");
    });
  }
})();
