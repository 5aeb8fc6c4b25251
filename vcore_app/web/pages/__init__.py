"""HTML page handlers, one module per resource. They call the same domain functions as the API."""
