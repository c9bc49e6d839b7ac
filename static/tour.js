// The tour builder without a round trip: "More rows" adds an empty row in the page and
// "Remove" takes a row away at once. Without JavaScript both work through the server.
(function () {
  "use strict";
  var table = document.querySelector("table.tour-rows tbody");
  var more = document.querySelector("button[name=action][value=more]");
  if (!table || !more) return;

  function renumber() {
    var rows = table.querySelectorAll("tr.tour-row");
    rows.forEach(function (row, index) {
      row.querySelectorAll(".n").forEach(function (n) { n.textContent = String(index + 1); });
      row.querySelectorAll("[name^='rows-'], [for^='rows-'], [id^='rows-']").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/^rows-\d+-/, "rows-" + index + "-"));
        });
      });
    });
  }

  more.addEventListener("click", function (event) {
    event.preventDefault();
    var rows = table.querySelectorAll("tr.tour-row");
    var copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) {
      if (input.type === "checkbox") input.checked = false;
      else input.value = "";
      input.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".field-error").forEach(function (p) { p.remove(); });
    copy.querySelectorAll(".has-error").forEach(function (td) { td.classList.remove("has-error"); });
    table.appendChild(copy);
    renumber();
    copy.querySelector("input").focus();
  });

  table.addEventListener("change", function (event) {
    var box = event.target;
    if (box.type !== "checkbox" || !/-remove$/.test(box.name)) return;
    if (table.querySelectorAll("tr.tour-row").length > 1) {
      var row = box.closest("tr");
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      if (next) next.querySelector("input").focus();
    } else {
      box.checked = false;
    }
  });
})();
