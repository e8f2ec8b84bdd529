"""The client address behind trusted reverse proxies (``GATEWAY__TRUSTED_PROXIES``, X-Forwarded-For)."""

from __future__ import annotations

import pytest

from imagegate._proxies import TrustedProxies
from imagegate._settings import Settings
from imagegate._errors import InvalidRequest

NGINX = "10.0.0.2"


@pytest.mark.parametrize(("peer", "forwarded"), [
    ("198.51.100.7", ["203.0.113.9"]),  # a client speaking directly: its header is its own word
    ("198.51.100.7", []),
    ("10.1.0.2", ["203.0.113.9"]),  # near the proxy, but not it
])
def test_an_untrusted_peer_is_the_client_whatever_it_forwards(peer: str, forwarded: list[str]) -> None:
    assert TrustedProxies([NGINX]).client(peer, forwarded) == peer


def test_no_trusted_proxy_by_default_ignores_the_header() -> None:
    assert TrustedProxies().client("127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"
    assert Settings().gateway.trusted_proxies == []


def test_a_trusted_peer_names_the_right_most_address_that_is_not_a_proxy() -> None:
    proxies = TrustedProxies([NGINX, "172.16.0.0/12"])
    assert proxies.client(NGINX, ["203.0.113.9"]) == "203.0.113.9"
    # a client behind a CDN edge (172.16.x, trusted) behind nginx: the edge is skipped
    assert proxies.client(NGINX, ["203.0.113.9, 172.16.4.4"]) == "203.0.113.9"
    # several header lines read as one list, in order
    assert proxies.client(NGINX, ["198.51.100.1", "203.0.113.9, 172.20.0.1"]) == "203.0.113.9"


def test_spoofed_left_entries_are_never_believed() -> None:
    proxies = TrustedProxies([NGINX])
    # the client wrote "1.1.1.1, 10.0.0.2" itself; nginx appended the address it really came from
    assert proxies.client(NGINX, ["1.1.1.1, 10.0.0.2, 203.0.113.9"]) == "203.0.113.9"
    assert {proxies.client(NGINX, [f"192.0.2.{n}, 203.0.113.9"]) for n in range(20)} == {"203.0.113.9"}


@pytest.mark.parametrize("forwarded", [["unknown"], ["not an address"], ["203.0.113.9, garbage"],
                                       ["203.0.113.9, 999.1.1.1"], ["203.0.113.9, 10.0.0.2:80:80"]])
def test_a_malformed_entry_never_becomes_the_client(forwarded: list[str]) -> None:
    # the walk stops at the malformed entry: the client is the nearest proxy that was trusted
    assert TrustedProxies([NGINX]).client(NGINX, forwarded) == NGINX


def test_blank_entries_and_ports_are_read() -> None:
    proxies = TrustedProxies([NGINX])
    assert proxies.client(NGINX, ["203.0.113.9:4711, "]) == "203.0.113.9"
    assert proxies.client(NGINX, ["[2001:db8::7]:443"]) == "2001:db8::7"
    assert proxies.client(NGINX, ["", " "]) == NGINX  # nothing forwarded: the proxy itself


def test_ipv6_addresses_have_one_spelling_and_mapped_ipv4_is_ipv4() -> None:
    proxies = TrustedProxies(["fd00::/8", "10.0.0.0/8"])
    spellings = ["2001:db8::7", "2001:DB8:0:0:0:0:0:7", "2001:0db8::0007"]
    assert {proxies.client("fd00::1", [text]) for text in spellings} == {"2001:db8::7"}
    assert proxies.client("::ffff:10.0.0.2", ["2001:db8::7"]) == "2001:db8::7"  # a dual-stack socket's peer
    assert proxies.client("fd00::1", ["::ffff:203.0.113.9"]) == "203.0.113.9"
    assert proxies.client("::1", ["203.0.113.9"]) == "::1"  # ::1 is not trusted here


def test_a_peer_that_is_no_address_is_the_client() -> None:
    assert TrustedProxies(["0.0.0.0/0"]).client(None, ["203.0.113.9"]) == "unknown"
    assert TrustedProxies(["0.0.0.0/0"]).client("unix:/run/sock", ["203.0.113.9"]) == "unix:/run/sock"


def test_the_setting_takes_addresses_and_networks_and_names_a_bad_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY__TRUSTED_PROXIES", "10.0.0.2, 10.1.2.3/16,fd00::/8")
    assert Settings().gateway.trusted_proxies == ["10.0.0.2/32", "10.1.0.0/16", "fd00::/8"]
    monkeypatch.setenv("GATEWAY__TRUSTED_PROXIES", '["127.0.0.1"]')
    assert Settings().gateway.trusted_proxies == ["127.0.0.1/32"]
    monkeypatch.setenv("GATEWAY__TRUSTED_PROXIES", "10.0.0.2,nginx")
    with pytest.raises(InvalidRequest) as bad:
        Settings()
    assert "GATEWAY__TRUSTED_PROXIES" in bad.value.message and "'nginx'" in bad.value.message
