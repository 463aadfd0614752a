// Progressive enhancement for the staff area's row lists (the hours of each
// weekday, the date overrides). Without this file "Add hours" and "Add a
// date" submit the form, which comes back unsaved with one more empty row,
// and a row is removed by emptying it; with it, rows are added and removed
// in place.
(function () {
  "use strict";
  document.querySelectorAll("[data-rows]").forEach(function (box) {
    var add = box.querySelector("[data-add-row]");
    var first = box.querySelector("[data-row]");
    if (!add || !first) return;
    var blank = first.cloneNode(true);
    blank.classList.remove("has-error");
    blank.querySelectorAll(".field-error").forEach(function (p) { p.remove(); });
    blank.querySelectorAll("input").forEach(function (input) { input.value = ""; input.removeAttribute("value"); });

    // Rows are numbered in their labels ("Monday hours 2 from").
    function renumber() {
      box.querySelectorAll("[data-row]").forEach(function (row, i) {
        row.querySelectorAll("[aria-label]").forEach(function (el) {
          el.setAttribute("aria-label", el.getAttribute("aria-label").replace(/\d+/, String(i + 1)));
        });
      });
    }
    function wire(row) {
      var remove = row.querySelector("[data-remove-row]");
      if (!remove) return;
      remove.hidden = false;
      remove.addEventListener("click", function () {
        var next = row.nextElementSibling;
        row.remove();
        renumber();
        (next && next.matches("[data-row]") ? next.querySelector("input") : add).focus();
      });
    }
    box.querySelectorAll("[data-row]").forEach(wire);
    add.addEventListener("click", function (e) {
      e.preventDefault();
      var row = blank.cloneNode(true);
      box.insertBefore(row, add);
      wire(row);
      renumber();
      row.querySelector("input").focus();
    });
  });
})();
