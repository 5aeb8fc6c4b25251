// Sortable result tables: a click on a column's header button sorts the rows by it (numbers as
// numbers), a second click reverses. Delegated from the document, so tables that the live page
// re-renders (data-refresh) stay sortable.
(function () {
  "use strict";

  function value(row, index) {
    var text = row.cells[index] ? row.cells[index].textContent.trim() : "";
    var number = Number(text);
    return text !== "" && !isNaN(number) ? number : text.toLowerCase();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("table.vc-sortable .vc-sort") : null;
    if (!button) return;
    var header = button.closest("th");
    var table = header.closest("table");
    var index = Array.prototype.indexOf.call(header.parentNode.children, header);
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, index), y = value(b, index);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
})();
