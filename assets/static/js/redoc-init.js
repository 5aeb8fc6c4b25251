// ReDoc for /redoc: a file, not an inline script (the CSP allows none).
(function () {
  "use strict";
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, { hideDownloadButton: false }, root);
})();
