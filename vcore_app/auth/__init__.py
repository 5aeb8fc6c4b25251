"""Authentication: passwords, tokens (JWT), the request authentication backend, and guards."""
