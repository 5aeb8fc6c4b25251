"""Outbound HTTP that cannot reach denied networks (api_post jobs; later webhooks).

Reaching any address is what a homelab needs, but not the cloud metadata service (169.254.169.254,
fd00:ec2::254) or link-local addresses: a job's URL must not be a way to read the host's cloud
credentials. API_POST_DENY_NETWORKS lists what is refused.

The check sits where the connection is made, not on the URL: httpcore asks our network backend to
connect to a host name; we resolve it once, refuse if any address it resolves to is denied, and
connect to the address we checked. So there is no gap between check and use for a DNS answer to
change in (DNS rebinding), and every connection is checked, also the one a redirect leads to. TLS
still verifies the certificate against the host name (httpcore passes it to `start_tls` separately).
Proxies from the environment are not used: through a proxy, the proxy would resolve the name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Refused(httpcore.ConnectError):
    """The address is in a denied network: retrying cannot help."""


def denied(address: str, deny: Sequence[Network]) -> Network | None:
    """The denied network `address` is in, if any (an IPv4-mapped IPv6 address counts as IPv4)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return next((network for network in deny if ip.version == network.version and ip in network), None)


class _CheckedBackend(httpcore.NetworkBackend):
    def __init__(self, deny: Sequence[Network], setting: str) -> None:
        self._deny = deny
        self._setting = setting
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            network = denied(address, self._deny)
            if network is not None:
                shown = host if host == address else f"{host} ({address})"
                raise Refused(f"refused: {shown} is in {network}, which {self._setting} denies")
        error: Exception | None = None
        for address in addresses:  # the checked addresses, in the resolver's order
            try:
                return self._backend.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise Refused("refused: unix sockets are not reachable from jobs")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class CheckedTransport(httpx.HTTPTransport):
    """httpx's transport, connecting only through `_CheckedBackend`."""

    def __init__(self, deny: Sequence[Network], *, setting: str) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass a network backend: replace it with one that has ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_CheckedBackend(deny, setting)
        )


def client(deny: Sequence[Network], *, setting: str, **options: Any) -> httpx.Client:
    """An httpx.Client that refuses `deny`; `setting` names where the list comes from in the error."""
    return httpx.Client(transport=CheckedTransport(deny, setting=setting), trust_env=False, **options)


def refused(exc: BaseException) -> bool:
    """Whether an httpx error was our refusal (a permanent failure, not a network hiccup)."""
    return isinstance(exc, Refused) or isinstance(exc.__cause__, Refused)
