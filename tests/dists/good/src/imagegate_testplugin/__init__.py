"""A third-party provider plugin, installed for real by the plugin-loading tests."""

from imagegate import hookimpl


@hookimpl
def register_providers(register, settings):  # type: ignore[no-untyped-def]
    from imagegate._catalog import ModelSpec
    from imagegate._provider import BaseProvider

    class Echo(BaseProvider):
        name = "testplugin"

    register.add_provider(Echo())
    register.add_model(ModelSpec(id="test-echo", provider="testplugin", upstream="echo-1"))


@hookimpl
def register_settings(register):  # type: ignore[no-untyped-def]
    from pydantic import BaseModel

    class EchoSettings(BaseModel):
        greeting: str = "hello"

    register.add_section("echo", EchoSettings)
