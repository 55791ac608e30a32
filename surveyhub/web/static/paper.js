/* Paper-entry grid: enhancements only; the grid works without this script (plain inputs, one POST).
   Adds: on to the next cell after a complete answer, Enter as Tab, checks while typing, and the
   summary before saving without a trip to the server. The server checks everything again. */
(function () {
  "use strict";
  var form = document.getElementById("paper-grid");
  if (!form) { return; }
  var cells = Array.prototype.slice.call(form.querySelectorAll(".cell input, .cell textarea"));
  var checkButton = document.getElementById("grid-check");
  var twoTicks = form.dataset.twoTicks;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }
  function number(text) { return Number(text.replace(",", ".")); }

  // Every complete entry a box cell accepts (what ``services/paper_grid`` reads), lower case.
  function accepted(input) {
    var kind = input.dataset.kind, list = ["x", "?"], i;
    if (kind === "choice") {
      for (i = 1; i <= Number(input.dataset.n); i++) { list.push(String(i)); }
    } else if (kind === "yes_no") {
      list = list.concat(["1", "2", "0", "j", "y", "n"]);
    } else if (kind === "scale") {
      for (i = Number(input.dataset.lo); i <= Number(input.dataset.hi); i++) { list.push(String(i)); }
    }
    return list;
  }

  // "ok" (complete: go on), "more" (valid so far, may grow: "1" of 1–10), "empty" or "bad".
  function state(input) {
    var value = input.value.trim().toLowerCase(), kind = input.dataset.kind;
    if (value === "") { return "empty"; }
    if (kind === "text") { return "more"; }
    if (kind === "choices") { return ticked(input) ? "more" : "bad"; }  // several boxes: never on by itself
    if (kind === "number") {
      if (value === "x" || value === "?") { return "ok"; }
      var n = number(value);
      return isNaN(n) || n < number(input.dataset.lo) || n > number(input.dataset.hi) ? "bad" : "more";
    }
    var list = accepted(input);
    var longer = list.some(function (one) { return one.length > value.length && one.indexOf(value) === 0; });
    if (list.indexOf(value) >= 0) { return longer ? "more" : "ok"; }
    return longer ? "more" : "bad";
  }

  // The box numbers typed into a "choices" cell ("1 3", "1,3", or "13" under ten boxes); null when one is not a box.
  function ticked(input) {
    var parts = input.value.replace(/[,;]/g, " ").trim().split(/\s+/), n = Number(input.dataset.n);
    if (parts.length === 1 && n < 10) { parts = parts[0].split(""); }
    var ok = parts.every(function (part) { return /^\d+$/.test(part) && Number(part) >= 1 && Number(part) <= n; });
    return ok ? parts : null;
  }

  function message(input) {
    var kind = input.dataset.kind;
    if (kind === "choices") { return fill(form.dataset.msgChoices, {n: input.dataset.n}); }
    if (kind === "choice") { return fill(form.dataset.msgBox, {n: input.dataset.n}); }
    if (kind === "yes_no") { return form.dataset.msgYesNo; }
    return fill(form.dataset.msgRange, {lo: input.dataset.lo, hi: input.dataset.hi});
  }

  function echoOf(input) { return document.getElementById("e-" + input.name); }

  function showEcho(input) {
    var echo = echoOf(input);
    if (!echo) { return; }
    var value = input.value.trim().toLowerCase(), labels = input.dataset.labels ? JSON.parse(input.dataset.labels) : {};
    if (input.dataset.kind === "yes_no") { value = {j: "1", y: "1", n: "2", "0": "2"}[value] || value; }
    if (input.dataset.kind === "choices") {
      echo.textContent = value && ticked(input) ? ticked(input).map(function (d) { return labels[d]; }).join(", ") : "";
    } else if ((value === "x" || value === "?") && input.dataset.kind !== "text") { echo.textContent = twoTicks; }
    else { echo.textContent = labels[value] || input.dataset.hint || ""; }
  }

  function setError(input, text) {
    var cell = input.closest(".cell"), id = "err-" + input.name, error = document.getElementById(id);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (one) {
      return one && one !== id;
    });
    if (text) {
      if (!error) {
        error = document.createElement("p");
        error.className = "error";
        error.id = id;
        cell.appendChild(error);
      }
      error.textContent = text;
      described.push(id);
      input.setAttribute("aria-invalid", "true");
      cell.classList.add("has-error");
    } else {
      if (error) { error.remove(); }
      input.removeAttribute("aria-invalid");
      cell.classList.remove("has-error");
    }
    input.setAttribute("aria-describedby", described.join(" "));
  }

  function check(input) {
    if (input.dataset.kind === "text") { return true; }
    var bad = state(input) === "bad";
    setError(input, bad ? message(input) : "");
    return !bad;
  }

  function next(input) {
    var index = cells.indexOf(input);
    var target = index + 1 < cells.length ? cells[index + 1] : (form.querySelector("#grid-summary button") || checkButton);
    target.focus();
  }

  function dropSummary() {
    var summary = form.querySelector(".grid-summary");  // its counts no longer hold
    if (summary) { summary.remove(); }
  }

  cells.forEach(function (input) {
    input.addEventListener("focus", function () { if (input.select) { input.select(); } });
    if (input.tagName === "TEXTAREA") { input.addEventListener("input", dropSummary); return; }
    input.addEventListener("input", function () {
      dropSummary();
      showEcho(input);
      var now = state(input);
      if (now === "bad") { check(input); return; }
      setError(input, "");
      if (now === "ok") { next(input); }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowUp" || event.key === "ArrowDown") {  // up and down the column of cells
        var target = cells[cells.indexOf(input) + (event.key === "ArrowUp" ? -1 : 1)];
        if (target) { event.preventDefault(); target.focus(); }
        return;
      }
      if (event.key !== "Enter") { return; }
      event.preventDefault();  // Enter goes on to the next cell, like Tab; it never sends a half-typed form
      if (check(input)) { next(input); }
    });
    input.addEventListener("blur", function () { check(input); });
  });

  function summary() {
    var blank = [], ticks = [], total = 0;
    form.querySelectorAll(".grid-section").forEach(function (section, s) {
      section.querySelectorAll(".cell input, .cell textarea").forEach(function (input, q) {
        var label = (s + 1) + "." + (q + 1), value = input.value.trim().toLowerCase();
        total += 1;
        if (value === "") { blank.push(label); }
        else if ((value === "x" || value === "?") && ["text", "choices"].indexOf(input.dataset.kind) < 0) {
          ticks.push(label);
        }
      });
    });
    var box = document.createElement("div");
    box.className = "grid-summary scripted";
    box.id = "grid-summary";
    box.setAttribute("role", "status");
    var old = document.getElementById("grid-summary");
    var heading = old ? old.querySelector("h2").textContent : form.dataset.msgCheck;
    var lines = [fill(form.dataset.msgFilled, {answered: total - blank.length - ticks.length, total: total})];
    if (blank.length) { lines.push(fill(form.dataset.msgBlank, {numbers: blank.join(", ")})); }
    if (ticks.length) { lines.push(fill(form.dataset.msgTicks, {numbers: ticks.join(", ")})); }
    lines.push(form.dataset.msgRight);
    var h2 = document.createElement("h2");
    h2.textContent = heading;
    box.appendChild(h2);
    lines.forEach(function (line) { var p = document.createElement("p"); p.textContent = line; box.appendChild(p); });
    var save = document.createElement("button");
    save.type = "submit";
    save.className = "button";
    save.name = "step";
    save.value = "save";
    save.textContent = form.dataset.msgSave;
    box.appendChild(save);
    if (old) { old.remove(); }
    form.querySelector(".grid-buttons").insertAdjacentElement("beforebegin", box);
    save.focus();
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.value !== "check") {  // save, or replace: the server checks and stores
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
      return;
    }
    event.preventDefault();
    var bad = cells.filter(function (input) { return !check(input); });
    var consent = form.querySelector("#consent");
    if (consent && !consent.checked) {
      var fieldset = consent.closest("fieldset"), error = document.getElementById("consent-error");
      if (!error) {
        error = document.createElement("p");
        error.className = "error";
        error.id = "consent-error";
        fieldset.insertBefore(error, fieldset.querySelector(".check"));
      }
      error.textContent = form.dataset.msgConsent;
      consent.setAttribute("aria-describedby", "consent-error");
      consent.setAttribute("aria-invalid", "true");
      fieldset.classList.add("has-error");
      bad.unshift(consent);
    }
    if (bad.length) { bad[0].focus(); return; }
    summary();
  });
  window.addEventListener("pageshow", function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });

  var first = document.getElementById("error-summary") || document.getElementById("grid-summary") ||
    document.getElementById("grid-conflict");
  if (first) {
    first.setAttribute("tabindex", "-1");
    first.focus();
  } else {
    (form.querySelector("#consent") || cells[0]).focus();
  }
}());
