// Every htmx request carries the session's CSRF token (integrations/web/session.py checks it).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});

// A request that could not reach the server says so in the page's alert region.
document.addEventListener("htmx:sendError", function () {
  var flash = document.getElementById("flash");
  if (flash) {
    flash.textContent = "Rota could not be reached. Check the connection and try again.";
  }
});

// The chat panel's box empties once its message was answered (no inline handlers: the page's
// Content-Security-Policy allows scripts from this file only).
document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.detail.elt;
  if (form && form.classList && form.classList.contains("chat-form") && event.detail.successful) {
    form.reset();
  }
});
