"""Helpers shared by the tests: starting apps, logging in, waiting, driving pages and the browser.

Fixtures stay in tests/conftest.py; what a test module imports lives here, in a module named for
what it helps with.
"""
