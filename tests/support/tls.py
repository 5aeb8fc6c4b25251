"""A self-signed certificate for loopback servers: the app's own HTTPS (tests/test_exposure.py) and
the mail servers of the notification tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.machine import group


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), made by the openssl command line."""
    tls = group("openssl")
    if not tls.present():
        pytest.skip(tls.skip_reason)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
