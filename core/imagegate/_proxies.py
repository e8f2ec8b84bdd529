"""Who sent a request that came through reverse proxies: the client address from ``X-Forwarded-For``.

Only a peer inside ``GATEWAY__TRUSTED_PROXIES`` may speak for someone else; from any other peer the
header is ignored. A trusted peer's ``X-Forwarded-For`` (all its lines, in order) is read from the
right, where each proxy appended the address it was connected from: the first address that is not
itself a trusted proxy is the client. Whatever lies left of it was written by that client and is
never believed. A malformed entry ends the walk (the proxy nearest to it is taken as the client),
so no header text becomes an identity. Addresses are normalized (an IPv4-mapped IPv6 address is its
IPv4 address; one IPv6 address has one spelling), so a client cannot get a fresh identity by
re-spelling its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

__all__ = ["TrustedProxies", "proxy_network"]

Address = IPv4Address | IPv6Address


def proxy_network(text: str) -> IPv4Network | IPv6Network:
    """``10.0.0.5``, ``10.0.0.0/8`` or ``fd00::/8`` as a network (host bits may be set);
    :class:`ValueError` naming ``text`` when it is neither an address nor a network."""
    try:
        return ip_network(text.strip(), strict=False)
    except ValueError:
        msg = f"{text[:70]!r} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)"
        raise ValueError(msg) from None


def _address(text: str) -> Address | None:
    """The address of one ``X-Forwarded-For`` entry (``[v6]:port`` and ``v4:port`` allowed), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text.partition("%")[0])
    except ValueError:
        return None
    return (address.ipv4_mapped or address) if isinstance(address, IPv6Address) else address


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed (none by default)."""

    def __init__(self, networks: Iterable[str] = ()) -> None:
        self.networks = [proxy_network(text) for text in networks]

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str:
        """The client of a request from ``peer`` (the connecting address) carrying these
        ``X-Forwarded-For`` lines: ``peer`` itself unless it is a trusted proxy."""
        client = _address(peer or "")
        if client is None:
            return peer or "unknown"
        if not self.trusts(client):
            return str(client)
        for text in reversed([entry for line in forwarded_for for entry in line.split(",") if entry.strip()]):
            address = _address(text)
            if address is None:
                break
            client = address
            if not self.trusts(address):
                break
        return str(client)
