"""The CIDR / IP calculator (IPv4 and IPv6) on the standard library's `ipaddress`."""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import BaseModel, Field

from vcore_app.tools import QuickTool, ToolFailed


class CidrCalculator(QuickTool):
    name = "cidr"
    title = "CIDR / IP calculator"
    description = (
        "Network, netmask, broadcast, host range and size of an IPv4 or IPv6 network; does it contain an address?"
    )

    class Input(BaseModel):
        network: str = Field(min_length=1, max_length=100, description="10.0.0.0/8, 192.168.1.17/24 or 2001:db8::/48")
        contains: str = Field("", max_length=100, description="An address to test (optional)")

    def run(self, data: Any) -> Any:
        try:
            net = ipaddress.ip_network(data.network.strip(), strict=False)
        except ValueError as exc:
            raise ToolFailed(str(exc), field="network") from None
        hosts_first, hosts_last = _host_range(net)
        result: dict[str, Any] = {
            "version": net.version,
            "network": str(net),
            "network_address": str(net.network_address),
            "prefix_length": net.prefixlen,
            "netmask": str(net.netmask),
            "hostmask": str(net.hostmask),
            "broadcast": str(net.broadcast_address) if net.version == 4 else None,
            "first_address": str(net.network_address),
            "last_address": str(net.broadcast_address),
            "first_host": hosts_first,
            "last_host": hosts_last,
            "addresses": net.num_addresses,
            "private": net.is_private,
        }
        if data.contains.strip():
            try:
                address = ipaddress.ip_address(data.contains.strip())
            except ValueError as exc:
                raise ToolFailed(str(exc), field="contains") from None
            result["contains"] = address.version == net.version and address in net
        return result


def _host_range(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[str, str]:
    """Usable hosts: all of a /31, /32 (and IPv6 /127, /128), else without network and broadcast."""
    if net.num_addresses <= 2:
        return str(net.network_address), str(net.broadcast_address)
    return str(net.network_address + 1), str(net.broadcast_address - (1 if net.version == 4 else 0))
