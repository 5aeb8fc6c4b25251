// Swagger UI for /docs: a file, not an inline script (the CSP allows none). "Authorize" logs in with
// the OAuth2 password flow at /api/v1/login/access-token; calls made before that ride on the browser
// session and carry its CSRF token, as the app's own pages do.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null,  // the public validator is on the internet; this page works offline
    requestInterceptor: function (request) {
      var token = csrfToken();
      if (token) { request.headers["X-CSRF-Token"] = token; }
      return request;
    },
  });
})();
