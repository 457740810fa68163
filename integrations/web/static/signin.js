// A one-time link carries its secret after '#', which never reaches a server log: post it.
(function () {
  var secret = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  var form = document.getElementById("link-form");
  if (!form) {
    return;
  }
  if (!secret) {
    document.getElementById("link-help").textContent =
      "This link is incomplete: open the whole link you were given, or sign in with your token.";
    return;
  }
  document.getElementById("link-token").value = secret;
  history.replaceState(null, "", window.location.pathname); // drop the secret from the address bar
  form.submit();
})();
