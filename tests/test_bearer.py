"""The one bearer-key check of HTTP and MCP: matching, and throttling an address that fails."""

from __future__ import annotations

import pytest

import imagegate._bearer as bearer
from imagegate._bearer import BearerCheck
from imagegate._errors import AuthenticationError, RateLimited
from imagegate._settings import Settings

KEY = "sk-gateway-key-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_right_key_in_any_case_of_scheme_matches_and_names_the_key_not_the_secret() -> None:
    check = BearerCheck([KEY, "other-key"])
    caller = await check.caller(f"Bearer {KEY}", "10.0.0.1")
    assert caller.owner.startswith("key_") and KEY not in caller.owner and caller.admin and caller.key is None
    assert await check.caller(f"bearer  {KEY} ".encode(), "10.0.0.1") == caller
    assert (await check.caller("Bearer other-key", "10.0.0.1")).owner != caller.owner


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", f"Basic {KEY}", f"Bearer {KEY[:-1]}",
                                    f"Bearer {KEY}x", KEY, "Bearer \udcff"])
async def test_missing_malformed_or_near_miss_keys_are_refused(header: str | None) -> None:
    with pytest.raises(AuthenticationError) as caught:
        await BearerCheck([KEY]).caller(header, "10.0.0.1")
    assert caught.value.param == "Authorization" and KEY not in caught.value.message


async def test_an_address_that_keeps_failing_is_refused_without_its_key_being_checked() -> None:
    clock = Clock()
    check = BearerCheck([KEY], max_failures=3, window_s=60, clock=clock)
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            await check.caller("Bearer wrong", "10.0.0.1")
        clock.now += 1
    with pytest.raises(RateLimited) as caught:
        await check.caller(f"Bearer {KEY}", "10.0.0.1")  # even the right key: the key is not looked at
    assert caught.value.retry_after == pytest.approx(57) and "GATEWAY__AUTH_MAX_FAILURES" in caught.value.message
    assert (await check.caller(f"Bearer {KEY}", "10.0.0.2")).admin  # other addresses are not affected
    clock.now += 57  # the first failure leaves the window: one more attempt is allowed
    assert (await check.caller(f"Bearer {KEY}", "10.0.0.1")).admin


async def test_successes_are_not_counted_and_old_failures_expire() -> None:
    clock = Clock()
    check = BearerCheck([KEY], max_failures=2, window_s=10, clock=clock)
    with pytest.raises(AuthenticationError):
        await check.caller("Bearer wrong", "a")
    for _ in range(5):
        await check.caller(f"Bearer {KEY}", "a")
    clock.now += 11
    with pytest.raises(AuthenticationError):
        await check.caller("Bearer wrong", "a")
    with pytest.raises(AuthenticationError):  # the first failure expired: this is only the second
        await check.caller("Bearer wrong", "a")
    with pytest.raises(RateLimited):
        await check.caller("Bearer wrong", "a")


async def test_the_record_of_failing_addresses_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bearer, "MAX_CLIENTS", 100)
    check = BearerCheck([KEY], max_failures=2)
    for index in range(1000):
        for _ in range(5):
            with pytest.raises((AuthenticationError, RateLimited)):
                await check.caller("Bearer wrong", f"10.0.{index // 256}.{index % 256}")
    assert len(check._local._times) == 100
    assert all(len(times) <= 2 for times in check._local._times.values())


def test_built_from_the_gateway_settings() -> None:
    settings = Settings(gateway={"api_keys": [KEY], "auth_max_failures": 4, "auth_failure_window_s": 30})
    check = BearerCheck.from_settings(settings.gateway)
    assert check.enabled and check.max_failures == 4 and check.window_s == 30
    assert not BearerCheck.from_settings(Settings().gateway).enabled


class Keys:
    """A key ring holding one virtual key (the real lookup is tested in test_keys.py)."""

    failures = None  # failed attempts are counted by the check itself

    def __init__(self, active: bool = True) -> None:
        from imagegate._callers import Caller
        from imagegate._keys import VirtualKey, key_digest

        self.active = active
        self.known = Caller(owner="key_team", key=VirtualKey(name="team", digest=key_digest("igk_team"),
                                                               hint="igk_team"))

    async def any(self) -> bool:
        return self.active

    async def identify(self, token: str) -> object:
        return self.known if self.active and token == "igk_team" else None


async def test_virtual_keys_are_accepted_beside_the_configured_ones_and_turn_the_check_on() -> None:
    keys = Keys()
    for check in (BearerCheck([KEY]), BearerCheck([])):
        assert await check.caller("Bearer igk_team", "a", keys) is keys.known
        with pytest.raises(AuthenticationError) as refused:
            await check.caller("Bearer igk_other", "a", keys)
        assert "imagegate keys create" in refused.value.message
    open_gateway = await BearerCheck([]).caller(None, "a", Keys(active=False))
    assert (open_gateway.owner, open_gateway.admin, open_gateway.key) == ("local", False, None)


async def test_failures_are_counted_by_the_key_store_when_it_can_so_every_replica_sees_them() -> None:
    from imagegate._bearer import LocalAuthFailures
    from imagegate._keys import AuthFailures

    clock = Clock()
    keys = Keys()
    keys.failures = shared = LocalAuthFailures(clock)  # type: ignore[assignment]  # a store every replica reads
    assert isinstance(shared, AuthFailures)
    replicas = [BearerCheck([KEY], max_failures=3, window_s=60, clock=clock) for _ in range(3)]
    for replica in replicas:
        with pytest.raises(AuthenticationError):
            await replica.caller("Bearer wrong", "203.0.113.9", keys)
        clock.now += 1
    for replica in replicas:  # three failures on three replicas: every replica refuses the address
        with pytest.raises(RateLimited) as caught:
            await replica.caller(f"Bearer {KEY}", "203.0.113.9", keys)
        assert caught.value.retry_after == pytest.approx(57)
    assert all(not replica._local._times for replica in replicas)  # nothing counted in the processes
    assert (await replicas[0].caller(f"Bearer {KEY}", "203.0.113.10", keys)).admin
