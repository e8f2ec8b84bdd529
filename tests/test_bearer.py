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


def test_the_right_key_in_any_case_of_scheme_matches_and_names_the_key_not_the_secret() -> None:
    check = BearerCheck([KEY, "other-key"])
    identity = check.check(f"Bearer {KEY}", "10.0.0.1")
    assert identity.startswith("key:") and KEY not in identity
    assert check.check(f"bearer  {KEY} ".encode(), "10.0.0.1") == identity
    assert check.check("Bearer other-key", "10.0.0.1") != identity


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", f"Basic {KEY}", f"Bearer {KEY[:-1]}",
                                    f"Bearer {KEY}x", KEY, "Bearer \udcff"])
def test_missing_malformed_or_near_miss_keys_are_refused(header: str | None) -> None:
    with pytest.raises(AuthenticationError) as caught:
        BearerCheck([KEY]).check(header, "10.0.0.1")
    assert caught.value.param == "Authorization" and KEY not in caught.value.message


def test_an_address_that_keeps_failing_is_refused_without_its_key_being_checked() -> None:
    clock = Clock()
    check = BearerCheck([KEY], max_failures=3, window_s=60, clock=clock)
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            check.check("Bearer wrong", "10.0.0.1")
        clock.now += 1
    with pytest.raises(RateLimited) as caught:
        check.check(f"Bearer {KEY}", "10.0.0.1")  # even the right key: the key is not looked at
    assert caught.value.retry_after == pytest.approx(57) and "GATEWAY__AUTH_MAX_FAILURES" in caught.value.message
    assert check.check(f"Bearer {KEY}", "10.0.0.2").startswith("key:")  # other addresses are not affected
    clock.now += 57  # the first failure leaves the window: one more attempt is allowed
    assert check.check(f"Bearer {KEY}", "10.0.0.1").startswith("key:")


def test_successes_are_not_counted_and_old_failures_expire() -> None:
    clock = Clock()
    check = BearerCheck([KEY], max_failures=2, window_s=10, clock=clock)
    with pytest.raises(AuthenticationError):
        check.check("Bearer wrong", "a")
    for _ in range(5):
        check.check(f"Bearer {KEY}", "a")
    clock.now += 11
    with pytest.raises(AuthenticationError):
        check.check("Bearer wrong", "a")
    with pytest.raises(AuthenticationError):  # the first failure expired: this is only the second
        check.check("Bearer wrong", "a")
    with pytest.raises(RateLimited):
        check.check("Bearer wrong", "a")


def test_the_record_of_failing_addresses_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bearer, "MAX_CLIENTS", 100)
    check = BearerCheck([KEY], max_failures=2)
    for index in range(1000):
        for _ in range(5):
            with pytest.raises((AuthenticationError, RateLimited)):
                check.check("Bearer wrong", f"10.0.{index // 256}.{index % 256}")
    assert len(check._failures) == 100
    assert all(len(times) <= 2 for times in check._failures.values())


def test_built_from_the_gateway_settings() -> None:
    settings = Settings(gateway={"api_keys": [KEY], "auth_max_failures": 4, "auth_failure_window_s": 30})
    check = BearerCheck.from_settings(settings.gateway)
    assert check.enabled and check.max_failures == 4 and check.window_s == 30
    assert not BearerCheck.from_settings(Settings().gateway).enabled
