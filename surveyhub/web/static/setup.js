/* The new-project form: questions and minutes per wave follow the ticked instruments, the chosen
   length and the look-back block as the worker changes them (the server computes the same sum;
   without JavaScript "Tijd opnieuw berekenen" shows it). */
(function () {
  "use strict";
  var data = document.getElementById("setup-figures");
  var table = document.getElementById("wave-totals");
  if (!data || !table) { return; }
  var figures = JSON.parse(data.textContent);
  var form = table.closest("form");
  var empty = document.getElementById("wave-totals-empty");

  function update() {
    var length = (form.querySelector("input[name=form_length]:checked") || {}).value || "full";
    var retro = form.querySelector("input[name=retrospective]");
    var chosen = Array.prototype.filter.call(form.querySelectorAll("input[name=instruments]"),
      function (box) { return box.checked && figures.instruments[box.value]; });
    table.hidden = chosen.length === 0;
    if (empty) { empty.hidden = chosen.length > 0; }
    table.querySelectorAll("tbody tr[data-kind]").forEach(function (row) {
      var kind = row.getAttribute("data-kind");
      var extra = figures.extra[kind] || [0, 0];
      var count = extra[0], seconds = figures.start + extra[1];
      chosen.forEach(function (box) {
        var f = figures.instruments[box.value][length] || figures.instruments[box.value].full;
        count += f[0]; seconds += f[1];
        if (kind === "post" && retro && retro.checked) { count += f[2]; seconds += f[3]; }
      });
      row.querySelector(".questions").textContent = String(count);
      var minutes = row.querySelector(".minutes");
      minutes.textContent = minutes.getAttribute("data-template").replace("{n}", String(Math.max(1, Math.ceil(seconds / 60))));
    });
  }
  form.addEventListener("change", update);
}());
