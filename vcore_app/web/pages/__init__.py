"""HTML page handlers, one module per resource."""
