
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-sort');
    return v === null ? cell.textContent.trim() : v;
  }
  function sortBy(table, col, th) {
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    var numeric = th.getAttribute('data-type') === 'number';
    var heads = table.tHead.rows[0].cells;
    for (var h = 0; h < heads.length; h++) {
      heads[h].removeAttribute('aria-sort');
      heads[h].querySelector('.sort-marker').textContent = '\u2195';
    }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]), r;
      if (numeric) {
        r = (parseFloat(x) || 0) - (parseFloat(y) || 0);
      } else {
        r = x.localeCompare(y);
      }
      return ascending ? r : -r;
    });
    for (var i = 0; i < rows.length; i++) body.appendChild(rows[i]);
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    th.querySelector('.sort-marker').textContent = ascending ? '\u25B2' : '\u25BC';
  }
  var tables = document.querySelectorAll('table.sortable');
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.tHead.rows[0].cells;
      for (var c = 0; c < heads.length; c++) {
        (function (th, col) {
          var marker = document.createElement('span');
          marker.className = 'sort-marker';
          marker.textContent = '\u2195';
          th.appendChild(marker);
          th.tabIndex = 0;
          th.title = 'sort';
          th.addEventListener('click', function () { sortBy(table, col, th); });
          th.addEventListener('keydown', function (e) {
            if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, col, th); }
          });
        })(heads[c], c);
      }
      table.setAttribute('data-sortable', 'ready');
    })(tables[t]);
  }
  // A link may name a sort: report.html#sort=issues-desc
  var wanted = /^#sort=([a-z]+)(-desc)?$/.exec(location.hash);
  if (wanted && tables.length) {
    var heads = tables[0].tHead.rows[0].cells;
    for (var w = 0; w < heads.length; w++) {
      if (heads[w].firstChild.textContent === wanted[1]) {
        sortBy(tables[0], w, heads[w]);
        if (wanted[2]) sortBy(tables[0], w, heads[w]);
      }
    }
  }
  var filter = document.getElementById('type-filter');
  if (filter) {
    var apply = function () {
      var wanted = filter.value, shown = 0;
      var rows = document.querySelectorAll('table.issues tbody tr');
      for (var i = 0; i < rows.length; i++) {
        var match = wanted === '' || rows[i].getAttribute('data-type') === wanted;
        rows[i].style.display = match ? '' : 'none';
        if (match) shown++;
      }
      document.getElementById('filter-count').textContent = shown + ' of ' + rows.length + ' listed issues shown';
    };
    filter.addEventListener('change', apply);
    apply();
  }
})();
