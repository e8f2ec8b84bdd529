"""Hooks the gateway calls are called through pluggy: implementations get only the arguments they
declare, hook-call monitoring sees every call, and one failing implementation does not stop the
others. The old middleware hook name still works next to the new one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imagegate import hookimpl
from imagegate._events import RequestFinished, RequestStarted
from imagegate.testing import FakeSleep, build_gateway, temp_settings

from .pipeline_support import REQUEST, Plugin, Scripted


class EventOnly:
    """Declares only the arguments it needs."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.closed = 0

    @hookimpl
    def track_event(self, event: Any) -> None:
        self.events.append(event)

    @hookimpl
    def shutdown(self) -> None:
        self.closed += 1


class Raising:
    @hookimpl
    def track_event(self, gateway: Any, event: Any) -> None:
        raise RuntimeError("listener bug")

    @hookimpl
    def shutdown(self, gateway: Any) -> None:
        raise RuntimeError("closer bug")


def gateway_with(tmp_path: Path, *plugins: tuple[str, object]) -> Any:
    config = temp_settings(tmp_path, providers={"fake": {}})
    return build_gateway(config, ("fake", Plugin(Scripted())), *plugins, sleep=FakeSleep())


async def test_an_implementation_declaring_only_event_gets_every_event(tmp_path: Path) -> None:
    listener = EventOnly()
    gateway = gateway_with(tmp_path, ("listener", listener))
    await gateway.open()
    try:
        await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert [type(e) for e in listener.events][0] is RequestStarted
    assert type(listener.events[-1]) is RequestFinished
    assert listener.closed == 1


async def test_hook_call_monitoring_sees_events_and_shutdown(tmp_path: Path) -> None:
    listener = EventOnly()
    gateway = gateway_with(tmp_path, ("listener", listener))
    calls: list[tuple[str, list[str]]] = []
    undo = gateway.pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.append((name, [impl.plugin_name for impl in impls])),
        lambda outcome, name, impls, kwargs: None)
    await gateway.open()
    try:
        await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
        undo()
    assert ("track_event", ["listener"]) in calls
    assert ("shutdown", ["listener"]) in calls
    assert sum(1 for name, _ in calls if name == "track_event") >= len(listener.events) > 0


async def test_a_raising_implementation_is_logged_and_the_others_still_run(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    before, after = EventOnly(), EventOnly()
    gateway = gateway_with(tmp_path, ("before", before), ("raising", Raising()), ("after", after))
    await gateway.open()
    with caplog.at_level("ERROR", logger="imagegate"):
        try:
            result = await gateway.run("generate", REQUEST)
        finally:
            await gateway.aclose()
    assert len(result.images) == 1
    assert len(before.events) == len(after.events) > 0
    assert before.closed == after.closed == 1
    assert "track_event of plugin raising failed" in caplog.text
    assert "shutdown of plugin raising failed" in caplog.text


async def test_middlewares_of_the_new_and_the_deprecated_hook_name_are_both_used(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []

    def middleware(label: str) -> Any:
        async def wrap(step: Any, call_next: Any) -> Any:
            seen.append((label, step.kind))
            return await call_next()

        return wrap

    class New:
        @hookimpl
        def step_middleware(self) -> Any:
            return middleware("new")

    class Old:
        @hookimpl
        def provider_call_wrapper(self, gateway: Any) -> Any:
            return middleware("old")

    gateway = gateway_with(tmp_path, ("old", Old()), ("new", New()))
    await gateway.open()
    try:
        await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert seen[:2] == [("new", "request"), ("old", "request")]
    assert ("new", "storage_write") in seen and ("old", "storage_write") in seen
