"""Authentication: passwords, tokens (JWT), API keys, recovery, login throttling, and the request
authentication backend with its default-deny gate. Roles are checked by web/deps.py and the domain."""
