// Sort a gradient table by a clicked column; without script the tables keep their order.
(function () {
  var tables = document.querySelectorAll("table.gradient-table");
  if (!tables.length) { return; }
  document.documentElement.className += " js";
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      if (th.className.indexOf("sortable") === -1) { return; }
      th.tabIndex = 0;
      var sort = function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
          var nx = parseFloat(x), ny = parseFloat(y);
          var d = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
          return ascending ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
    });
  });
})();
