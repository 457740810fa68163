// Starts Swagger UI at /schema/swagger from a file: every HTML page's Content-Security-Policy
// refuses inline scripts (integrations/http/hardening.py), Litestar's own page uses one.
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("swagger-container");
  window.ui = SwaggerUIBundle({
    url: box.dataset.spec,
    dom_id: "#swagger-container",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    validatorUrl: null, // the badge would send the document's address to validator.swagger.io
  });
});
