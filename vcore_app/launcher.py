"""The process (docs/design.md, "The process"): start order, signals, shutdown order.

Start: settings -> data folder -> instance lock -> logging -> data folder made private (private.py)
-> child subreaper and its reaper thread (jobs/processes.py) -> TLS files checked -> bind the port
-> runtime (migrate, queues, scheduler) -> uvicorn on the main thread (forwarded headers only from
FORWARDED_ALLOW_IPS). Stop (Ctrl-C or SIGTERM): uvicorn stops accepting and drains -> scheduler ->
consumers (bounded) -> database -> exit 0.

Uvicorn re-raises the signal it caught once `run()` returns, so the process would die with 143
(SIGTERM) or a KeyboardInterrupt traceback (SIGINT) before our shutdown ran. Our server keeps
uvicorn's handlers but does not re-raise (what uvicorn's `Server.capture_signals` does on exit).

One instance per data folder (instance.py): a second start on the same folder does not start. With
OPEN_BROWSER it opens the browser at the running instance and exits 0; otherwise it is an error
(exit 2) saying where that instance listens.

Port: a port given explicitly (--port, SERVER_PORT in the environment or a .env file) is used or the
start fails. Without one, the default 5000 is tried first, then the next ports up.

Double-click: a file manager starts the binary frozen, with no arguments and without a terminal on
stdin. That start means OPEN_BROWSER: it listens on 127.0.0.1 (the default), on the next free port if
5000 is taken, opens the browser, and logs the URL to DATA_DIR/logs/vcore.log.
`--open-browser` gives the same behaviour from a terminal or from source.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import signal
import socket
import ssl
import sys
import threading
import time
import webbrowser
from collections.abc import Iterator, Sequence
from typing import Any

import psutil
import uvicorn
from loguru import logger

from vcore_app import __version__
from vcore_app.app import create_app
from vcore_app.applog import setup_logging
from vcore_app.first_run import setup_url
from vcore_app.instance import AlreadyRunning, InstanceLock, read_holder
from vcore_app.jobs import processes
from vcore_app.paths import is_frozen
from vcore_app.private import tighten
from vcore_app.runtime import Role, Runtime
from vcore_app.settings import DATA_DIR_ENV, Settings, SettingsError, ignored_settings, local_url

_HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_GRACEFUL_HTTP_SECONDS = 3
_PORTS_TO_TRY = 20
_WAIT_FOR_RUNNING_SECONDS = 30.0


class PortInUse(SettingsError):
    pass


def launched_by_double_click(argv: Sequence[str]) -> bool:
    """Frozen, no arguments, no terminal: see the module docstring."""
    stdin = sys.stdin
    return is_frozen() and not argv and not (stdin is not None and stdin.isatty())


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
            raise PortInUse(f"SERVER_PORT='{port}': address already in use on {host}") from None
        raise SettingsError(f"SERVER_HOST='{host}': cannot listen there ({exc.strerror or exc})") from None
    sock.set_inheritable(False)
    return sock


def bind_listener(settings: Settings) -> tuple[socket.socket, Settings]:
    """Bind the port, or the next free one when none was given; settings then carry the port used."""
    host, first = settings.SERVER_HOST, settings.SERVER_PORT
    if "SERVER_PORT" in settings.model_fields_set:  # given by a flag, the environment or a .env file
        return bind_socket(host, first), settings
    last = min(first + _PORTS_TO_TRY - 1, 65535)
    for port in range(first, last + 1):
        try:
            sock = bind_socket(host, port)
        except PortInUse:
            continue
        if port != first:
            logger.warning("port {} is in use on {}; using {}", first, host, port)
        return sock, settings if port == first else _on_port(settings, port)
    raise SettingsError(f"SERVER_PORT='{first}': ports {first}-{last} are all in use on {host}; choose one with --port")


def _on_port(settings: Settings, port: int) -> Settings:
    derived = local_url(settings.SERVER_HOST, settings.SERVER_PORT, tls=settings.tls) == settings.BASE_URL
    base_url = local_url(settings.SERVER_HOST, port, tls=settings.tls) if derived else settings.BASE_URL
    return settings.model_copy(update={"SERVER_PORT": port, "BASE_URL": base_url})


def serve(settings: Settings, *, workers: bool = True) -> None:
    """The web server, and (unless `workers` is False: a web node, issue 20) the queue workers."""
    try:
        lock = InstanceLock.acquire(settings.DATA_DIR)
    except AlreadyRunning as running:
        _point_at_running(settings, running)
        return
    try:
        _serve_locked(settings, lock, role="all" if workers else "web")
    finally:
        lock.release()


def _prepare_process(settings: Settings) -> None:
    """What any node does first: its log, a private data folder, and reaping its jobs' processes."""
    setup_logging(
        level=settings.LOG_LEVEL,
        log_file=settings.logs_dir / "vcore.log",
        rotation=settings.LOG_ROTATION,
        retention=settings.LOG_RETENTION,
    )
    _make_data_dir_private(settings)
    if processes.become_subreaper():  # a job's escaped processes stay ours to find, end and reap
        processes.start_reaper()


def run_worker(settings: Settings, *, queues: Sequence[str], workers: int | None) -> None:
    """A worker node (issue 20): only the workers of `queues`, until SIGTERM or SIGINT. Raises
    AlreadyRunning when another vcore-app holds its data folder."""
    lock = InstanceLock.acquire(settings.DATA_DIR)
    try:
        _prepare_process(settings)
        runtime = Runtime(settings, role="worker", worker_queues=queues, workers=workers)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        runtime.start()
        try:
            logger.info("worker node {} on {}: queues {}", runtime.boot_id, socket.gethostname(), ", ".join(queues))
            stop.wait()
        finally:
            runtime.stop()
            logger.info("worker node stopped")
    finally:
        lock.release()


def _serve_locked(settings: Settings, lock: InstanceLock, *, role: Role) -> None:
    _prepare_process(settings)
    check_tls_files(settings)
    sock, settings = bind_listener(settings)
    logger.info("vcore-app {} starting; data folder {}", __version__, settings.DATA_DIR)
    ignored = ignored_settings(settings.DATA_DIR, os.environ)
    if ignored:
        logger.warning(ignored)
    runtime = Runtime(settings, role=role)
    try:
        runtime.start()
        config = uvicorn.Config(
            create_app(settings, runtime),
            log_config=None,
            lifespan="on",
            ws="websockets-sansio",
            access_log=False,
            timeout_graceful_shutdown=_GRACEFUL_HTTP_SECONDS,
            # Forwarded headers only from the proxies named (uvicorn would trust 127.0.0.1 by default,
            # and any local process could then pick the client address the login throttle sees).
            proxy_headers=bool(settings.FORWARDED_ALLOW_IPS),
            forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
            ssl_certfile=settings.TLS_CERT_FILE,
            ssl_keyfile=settings.TLS_KEY_FILE,
        )
        server = _Server(config)
        threading.Thread(
            target=_announce, args=(server, runtime, lock, sock.getsockname()), name="announce", daemon=True
        ).start()
        _reload_plugins_on_sighup(runtime)
        server.run(sockets=[sock])
    finally:
        runtime.stop()
        sock.close()
        logger.info("vcore-app stopped")


def _make_data_dir_private(settings: Settings) -> None:
    """A data folder from before private.py existed (0755, 0644 files) is tightened, once, visibly."""
    changed = tighten(settings.DATA_DIR)
    if changed:
        logger.warning(
            "data folder {} was readable by other users: made {} entries private (folders 0700, files 0600)",
            settings.DATA_DIR,
            len(changed),
        )


def _reload_plugins_on_sighup(runtime: Runtime) -> None:
    """`vcore-app plugins reload` sends SIGHUP: re-import the plugins folder on a thread of its own
    (plugin code must not run inside a signal handler)."""

    def reload(_signum: int, _frame: object) -> None:
        threading.Thread(target=runtime.reload_plugins, name="plugin-reload", daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, reload)


def _point_at_running(settings: Settings, running: AlreadyRunning) -> None:
    """A second start on a busy data folder: show the running instance, or refuse with where it is."""
    holder = running.holder
    if settings.OPEN_BROWSER:
        deadline = time.monotonic() + _WAIT_FOR_RUNNING_SECONDS
        while holder.url is None and time.monotonic() < deadline:  # it may still be starting
            time.sleep(0.1)
            holder = read_holder(running.path)
        if holder.url is not None:
            logger.info("vcore-app already runs on {} at {}; opening the browser there", settings.DATA_DIR, holder.url)
            webbrowser.open(holder.url)
            return
    where = f"at {holder.url}" if holder.url else "(still starting)"
    raise SettingsError(
        f"{DATA_DIR_ENV}='{settings.DATA_DIR}': vcore-app already runs on this data folder {where}, pid {holder.pid}"
    )


def check_tls_files(settings: Settings) -> None:
    """A certificate or key that does not load is a one-line error before anything starts."""
    if settings.TLS_CERT_FILE is None or settings.TLS_KEY_FILE is None:
        return
    try:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(settings.TLS_CERT_FILE, settings.TLS_KEY_FILE)
    except (ssl.SSLError, OSError) as exc:
        raise SettingsError(
            f"TLS_CERT_FILE='{settings.TLS_CERT_FILE}': cannot load it with TLS_KEY_FILE "
            f"({getattr(exc, 'reason', None) or exc})"
        ) from None


def listening_addresses(bound: tuple[Any, ...], *, tls: bool) -> list[str]:
    """The URLs the bound socket answers on: every address of this machine for a wildcard bind."""
    host, port = bound[0], bound[1]
    scheme = "https" if tls else "http"
    hosts = [host]
    if ipaddress.ip_address(host).is_unspecified:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        hosts = sorted(
            {
                addr.address.split("%")[0]
                for addrs in psutil.net_if_addrs().values()
                for addr in addrs
                if addr.family == family
            },
            key=lambda a: (not ipaddress.ip_address(a).is_loopback, a),
        )
    return [f"{scheme}://[{h}]:{port}" if ":" in h else f"{scheme}://{h}:{port}" for h in hosts]


def _announce(server: uvicorn.Server, runtime: Runtime, lock: InstanceLock, bound: tuple[Any, ...]) -> None:
    """Once uvicorn listens: tell the lock file and the log where (and print the setup link while no
    user exists), and open the browser there if asked. Plain HTTP reachable from other machines gets
    one warning saying how to fix it."""
    settings = runtime.settings
    pause = threading.Event()  # never set: an interruptible sleep while uvicorn starts
    while not server.started and not server.should_exit:
        pause.wait(0.05)
    if not server.started:
        return
    lock.publish(port=settings.SERVER_PORT, url=settings.BASE_URL)
    urls = listening_addresses(bound, tls=settings.tls)
    logger.info("listening on {} (bound to {} port {}: {})", settings.BASE_URL, bound[0], bound[1], ", ".join(urls))
    if not settings.tls and not ipaddress.ip_address(bound[0]).is_loopback:
        logger.warning(
            "{} is reachable from other machines over plain HTTP: passwords, session cookies and API "
            "keys cross the network unencrypted. Put vcore-app behind a reverse proxy with TLS "
            "(packaging/README.md, 'Reverse proxy'), or set TLS_CERT_FILE and TLS_KEY_FILE.",
            bound[0],
        )
    url = setup_url(settings, runtime.setup_token) if runtime.setup_token else settings.BASE_URL
    if runtime.setup_token:
        print(f"\n  No user yet. Create the first superuser at:\n  {url}\n", file=sys.stderr, flush=True)
    if settings.OPEN_BROWSER:
        webbrowser.open(url)
