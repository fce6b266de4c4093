// Starts Swagger UI on the document named by this script's data-url
// attribute. Kept out of the HTML so that a strict Content-Security-Policy
// (script-src 'self') allows the page.
window.ui = SwaggerUIBundle({
  url: document.currentScript.dataset.url,
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
