// rssd serve: live progress of a running session. Polls the session's JSON and reloads the
// page when its state or counts change. Reads only data-* attributes of the page; no data is
// ever spliced into code.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var src = live.getAttribute("data-src");
  var seen = [live.getAttribute("data-state"), live.getAttribute("data-issues"), live.getAttribute("data-entries")].join("|");
  function poll() {
    fetch(src, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        if (!page) { return; }
        var now = [page.session.state, String(page.summary.issues), String(page.session.entries)].join("|");
        if (now !== seen) { window.location.reload(); return; }
        if (!page.session.finished_at) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
