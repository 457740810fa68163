// The board: open a block's details in a dialog; keep the grid fresh (poll with the ETag
// last received: 304 while nothing changed); say errors inside an open dialog.
(function () {
  "use strict";
  var board = document.getElementById("board");
  var dialog = document.getElementById("board-dialog");
  var body = document.getElementById("board-dialog-body");
  if (!board || !dialog || !body) { return; }
  var etag = board.getAttribute("data-etag");
  var url = board.getAttribute("data-poll-url");
  var every = parseInt(board.getAttribute("data-poll-ms"), 10) || 5000;
  var live = document.getElementById("board-live");
  var inFlight = false;

  // Whatever htmx puts in the dialog's body opens the dialog.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === body) {
      document.getElementById("board-dialog-flash").textContent = "";
      if (!dialog.open) { dialog.showModal(); }
    }
  });
  // An error while the dialog is open is said in the dialog (the page's alert is behind it).
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (dialog.open && event.detail.isError) {
      event.detail.target = document.getElementById("board-dialog-flash");
    }
  });
  dialog.addEventListener("close", function () { body.innerHTML = ""; });

  function refresh() {
    if (inFlight || document.hidden) { return; }
    inFlight = true;
    fetch(url, { headers: { "If-None-Match": etag, "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        if (response.status !== 200) { return null; }
        etag = response.headers.get("ETag") || etag;
        return response.text();
      })
      .then(function (html) {
        if (!html) { return; }
        var focused = document.activeElement && document.activeElement.getAttribute("data-block");
        board.innerHTML = html;
        if (window.htmx) { window.htmx.process(board); }
        if (focused) {
          var again = board.querySelector('[data-block="' + focused + '"]');
          if (again) { again.focus(); }
        }
        if (live) { live.textContent = "The board was updated."; }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .finally(function () { inFlight = false; });
  }
  setInterval(refresh, every);
  // A change made here (a booking, a check-in) refreshes at once.
  document.body.addEventListener("board-changed", refresh);
})();
