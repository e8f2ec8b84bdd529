"""The conformance suite can fail: a provider that breaks a rule is caught by the rule's test."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

BROKEN_PROVIDERS = '''
import pytest_asyncio

from imagegate import ImageRequest, InvalidRequest, RateLimited, UpstreamError, hookimpl
from imagegate.testing import ProviderConformance, ProviderTarget, ScriptedProvider, scripted_model


class SpendsWhileResolving(ScriptedProvider):
    """Pays an upstream call to look up a model it does not list, before any validation."""

    spent = 0

    async def resolve(self, model_id, session):
        type(self).spent += 1
        return scripted_model(model_id, provider=self.name)


class LeavesValidationToUpstream(ScriptedProvider):
    """Sends a size its upstream does not take and lets the upstream refuse it (a call was made)."""

    async def run(self, call):
        if call.size == "48x48":
            self.calls.append(call)
            raise InvalidRequest("the upstream said: 48x48 is not a supported size", param="size")
        return await super().run(call)


class Plugin:
    def __init__(self, provider):
        self.provider = provider

    @hookimpl
    def register_providers(self, register):
        register.add_provider(self.provider)
        register.add_model(scripted_model())


async def target(make, provider, *, invalid_model, upstream_calls, failure):
    gateway = await make(("scripted", Plugin(provider)), providers={"scripted": {"max_retries": 0}})
    return ProviderTarget(
        gateway=gateway, upstream_calls=upstream_calls,
        valid=ImageRequest(model="scripted-1", prompt="p"),
        invalid=ImageRequest(model=invalid_model, prompt="p", size="3x3"),
        fail_with=lambda code: provider.script(failure), codes=["rate_limited"])


class TestSpendsWhileResolving(ProviderConformance):
    @pytest_asyncio.fixture
    async def provider_target(self, imagegate_make_gateway):
        provider = SpendsWhileResolving()
        yield await target(imagegate_make_gateway, provider, invalid_model="scripted-dynamic",
                           upstream_calls=lambda: SpendsWhileResolving.spent + len(provider.calls),
                           failure=RateLimited("busy"))


class TestLeavesValidationToUpstream(ProviderConformance):
    @pytest_asyncio.fixture
    async def provider_target(self, imagegate_make_gateway):
        provider = LeavesValidationToUpstream()
        target_ = await target(imagegate_make_gateway, provider, invalid_model="scripted-1",
                               upstream_calls=lambda: len(provider.calls), failure=RateLimited("busy"))
        target_.invalid = ImageRequest(model="scripted-1", prompt="p", size="48x48")
        yield target_


class TestMapsRateLimitsToUpstreamError(ProviderConformance):
    @pytest_asyncio.fixture
    async def provider_target(self, imagegate_make_gateway):
        provider = ScriptedProvider()
        yield await target(imagegate_make_gateway, provider, invalid_model="scripted-1",
                           upstream_calls=lambda: len(provider.calls), failure=UpstreamError("HTTP 429"))
'''


def test_each_broken_rule_fails_its_own_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=BROKEN_PROVIDERS)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rf")
    failed = {line.split("::")[1] + "::" + line.split("::")[2].split(" ")[0]
              for line in result.stdout.lines if line.startswith("FAILED")}
    assert failed == {
        "TestSpendsWhileResolving::test_bad_parameter_fails_before_any_upstream_call",
        "TestLeavesValidationToUpstream::test_bad_parameter_fails_before_any_upstream_call",
        "TestMapsRateLimitsToUpstreamError::test_upstream_failures_map_to_their_codes",
    }, result.stdout.str()[-3000:]
