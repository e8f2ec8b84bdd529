"""The one retry loop: attempts, back-off honouring Retry-After, the deadline, final errors."""

from __future__ import annotations

import pytest

from imagegate._errors import ImagegateError, InvalidRequest, RateLimited, UpstreamError
from imagegate._retry import backoff_delay, retrying
from imagegate.testing import FakeSleep


class Script:
    """Fails with the given errors in turn, then answers the attempt number."""

    def __init__(self, *errors: ImagegateError) -> None:
        self.errors = list(errors)
        self.attempts: list[int] = []

    async def __call__(self, number: int) -> str:
        self.attempts.append(number)
        if self.errors:
            raise self.errors.pop(0)
        return f"answer {number}"


def test_backoff_honours_retry_after_and_grows_with_jitter() -> None:
    assert backoff_delay(1, retry_after=7) == 7
    assert backoff_delay(1, rng=lambda: 0.0) == 0.5
    assert backoff_delay(3, rng=lambda: 1.0) == 4.0
    assert backoff_delay(20, rng=lambda: 1.0, cap=30) == 30


async def test_retryable_errors_are_tried_again_until_an_answer() -> None:
    script, sleep = Script(UpstreamError("502"), UpstreamError("503")), FakeSleep()
    seen: list[tuple[int, str, float]] = []
    answer = await retrying(script, max_attempts=4, sleep=sleep,
                            on_retry=lambda n, exc, delay: seen.append((n, exc.code, delay)))
    assert answer == "answer 3" and script.attempts == [1, 2, 3]
    assert [n for n, _, _ in seen] == [1, 2] and {code for _, code, _ in seen} == {"upstream_error"}
    assert [delay for _, _, delay in seen] == sleep.delays
    assert 0.5 <= sleep.delays[0] <= 1.0 and 1.0 <= sleep.delays[1] <= 2.0


async def test_the_wait_is_the_upstreams_retry_after() -> None:
    script, sleep = Script(RateLimited("slow down", retry_after=12.5)), FakeSleep()
    assert await retrying(script, max_attempts=2, sleep=sleep) == "answer 2"
    assert sleep.delays == [12.5]


async def test_the_last_error_is_raised_when_attempts_run_out() -> None:
    script, sleep = Script(*(UpstreamError(f"fail {i}") for i in range(5))), FakeSleep()
    with pytest.raises(UpstreamError, match="fail 2"):
        await retrying(script, max_attempts=3, sleep=sleep)
    assert script.attempts == [1, 2, 3] and len(sleep.delays) == 2


async def test_final_errors_are_never_retried() -> None:
    script, sleep = Script(InvalidRequest("bad size"), UpstreamError("x", retryable=False)), FakeSleep()
    with pytest.raises(InvalidRequest):
        await retrying(script, max_attempts=5, sleep=sleep)
    with pytest.raises(UpstreamError):
        await retrying(script, max_attempts=5, sleep=sleep)
    assert script.attempts == [1, 1] and sleep.delays == []


async def test_a_wait_past_the_deadline_raises_instead_of_sleeping() -> None:
    script, sleep = Script(RateLimited("later", retry_after=30)), FakeSleep()
    with pytest.raises(RateLimited):
        await retrying(script, max_attempts=5, sleep=sleep, deadline=1020.0, clock=lambda: 1000.0)
    assert script.attempts == [1] and sleep.delays == []
    script = Script(RateLimited("later", retry_after=10))
    assert await retrying(script, max_attempts=5, sleep=sleep, deadline=1020.0, clock=lambda: 1000.0) == "answer 2"
