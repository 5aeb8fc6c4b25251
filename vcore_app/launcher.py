"""The process (DESIGN.md section 2): start order, signals, shutdown order.

Start: settings -> data folder -> logging -> bind the port -> runtime (migrate, queues, scheduler)
-> uvicorn on the main thread. Stop (Ctrl-C or SIGTERM): uvicorn stops accepting and drains ->
scheduler -> consumers (bounded) -> database -> exit 0.

Uvicorn re-raises the signal it caught once `run()` returns, so the process would die with 143
(SIGTERM) or a KeyboardInterrupt traceback (SIGINT) before our shutdown ran. Our server keeps
uvicorn's handlers but does not re-raise (STACK-NOTES.md).
"""

from __future__ import annotations

import contextlib
import errno
import signal
import socket
import threading
import webbrowser
from collections.abc import Iterator

import uvicorn
from loguru import logger

from vcore_app import __version__
from vcore_app.app import create_app
from vcore_app.applog import setup_logging
from vcore_app.runtime import Runtime
from vcore_app.settings import Settings, SettingsError

_HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_GRACEFUL_HTTP_SECONDS = 3


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before anything starts, so a port in use is a one-line error and not a half-started app."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when `proto` says TCP
    # (base_events._set_nodelay). With proto 0, a keep-alive response waited ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SettingsError(f"SERVER_PORT='{port}': address already in use on {host}") from None
        raise SettingsError(f"SERVER_HOST='{host}': cannot listen there ({exc.strerror or exc})") from None
    sock.set_inheritable(False)
    return sock


def serve(settings: Settings) -> None:
    setup_logging(level=settings.LOG_LEVEL, log_file=settings.logs_dir / "vcore.log",
                  rotation=settings.LOG_ROTATION, retention=settings.LOG_RETENTION)
    sock = bind_socket(settings.SERVER_HOST, settings.SERVER_PORT)
    logger.info("vcore-app {} starting; data folder {}", __version__, settings.DATA_DIR)
    runtime = Runtime(settings)
    try:
        runtime.start()
        config = uvicorn.Config(
            create_app(settings, runtime), log_config=None, lifespan="on", ws="websockets-sansio",
            access_log=False, timeout_graceful_shutdown=_GRACEFUL_HTTP_SECONDS, proxy_headers=True,
        )
        server = _Server(config)
        threading.Thread(target=_announce, args=(server, settings), name="announce", daemon=True).start()
        server.run(sockets=[sock])
    finally:
        runtime.stop()
        sock.close()
        logger.info("vcore-app stopped")


def _announce(server: uvicorn.Server, settings: Settings) -> None:
    """Say where we listen once uvicorn has started, and open the browser there if asked."""
    deadline = threading.Event()
    while not server.started and not server.should_exit:
        deadline.wait(0.05)
    if not server.started:
        return
    logger.info("listening on {}", settings.BASE_URL)
    if settings.OPEN_BROWSER:
        webbrowser.open(settings.BASE_URL)
