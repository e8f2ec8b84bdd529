"""``GET /v1/images``: newest first, cursor paging by ``last_id``, and the model, date and parent
filters the gallery uses, over a real server and local storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from imagegate._ids import new_image_id
from imagegate_http.image_query import ImageQuery, find_images

from .seeding import seed_image

DAY = datetime(2026, 11, 20, 12, tzinfo=UTC)


async def _seed_week(gateway) -> list[dict]:
    """Ten images over five days, alternating two catalog models; newest first."""
    made = []
    for index in range(10):
        created = DAY + timedelta(days=index // 2, hours=index % 2)
        model = "placeholder" if index % 2 else "test-streamer"
        image_id = await seed_image(gateway, model=model, created=created, prompt=f"image {index}")
        made.append({"id": image_id, "model": model, "created": created})
    return made[::-1]


async def _list(http: aiohttp.ClientSession, **query: str) -> dict:
    async with http.get("/v1/images", params=query) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _error(http: aiohttp.ClientSession, **query: str) -> dict:
    async with http.get("/v1/images", params=query) as response:
        assert response.status == 400, await response.text()
        return (await response.json())["error"]


async def _all_pages(http: aiohttp.ClientSession, **query: str) -> list[str]:
    ids: list[str] = []
    before = None
    while True:
        page = await _list(http, **query, **({"before": before} if before else {}))
        ids += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            assert page["last_id"] == (page["data"][-1]["id"] if page["data"] else None)
            return ids
        before = page["last_id"]


async def test_pages_cover_every_image_once_newest_first(served) -> None:
    made = await _seed_week(served.gateway)
    async with aiohttp.ClientSession(served.base_url) as http:
        first = await _list(http, limit="4")
        assert [item["id"] for item in first["data"]] == [m["id"] for m in made[:4]]
        assert first["has_more"] is True and first["last_id"] == made[3]["id"]
        assert first["data"][0]["object"] == "image" and first["data"][0]["prompt"] == "image 9"
        assert await _all_pages(http, limit="4") == [m["id"] for m in made]
        exact = await _list(http, limit="10")
        assert len(exact["data"]) == 10 and exact["has_more"] is False  # no empty page after a full one


async def test_filter_by_model_and_its_alias_pages_through_matches_only(served) -> None:
    made = await _seed_week(served.gateway)
    streamer = [m["id"] for m in made if m["model"] == "test-streamer"]
    async with aiohttp.ClientSession(served.base_url) as http:
        assert await _all_pages(http, model="test-streamer", limit="2") == streamer
        page = await _list(http, model="placeholder", limit="100")
        assert {item["model"] for item in page["data"]} == {"placeholder"} and len(page["data"]) == 5
        assert (await _list(http, model="no-such-model"))["data"] == []


async def test_filter_by_date_and_time_range(served) -> None:
    made = await _seed_week(served.gateway)
    async with aiohttp.ClientSession(served.base_url) as http:
        days = await _list(http, since="2026-11-21", until="2026-11-23")  # two whole days, UTC
        expected = [m["id"] for m in made if datetime(2026, 11, 21, tzinfo=UTC) <= m["created"]
                    < datetime(2026, 11, 23, tzinfo=UTC)]
        assert [item["id"] for item in days["data"]] == expected and len(expected) == 4
        assert days["has_more"] is False
        since = await _list(http, since="2026-11-24T12:30:00+00:00")  # only the hour-13 image of the last day
        assert [item["id"] for item in since["data"]] == [made[0]["id"]]
        combined = await _list(http, since="2026-11-22", model="placeholder")
        assert [item["id"] for item in combined["data"]] == [
            m["id"] for m in made if m["model"] == "placeholder" and m["created"] >= datetime(2026, 11, 22, tzinfo=UTC)]


async def test_cached_thumbnails_are_never_listed_and_do_not_end_a_date_scan(served) -> None:
    """A thumbnail is written now under its source's (older) day: the scan skips it, not stops at it."""
    made = await _seed_week(served.gateway)
    oldest = made[-1]["id"]
    await served.gateway.thumbnail(oldest, 32)
    async with aiohttp.ClientSession(served.base_url) as http:
        assert await _all_pages(http, limit="3") == [m["id"] for m in made]
        recent = await _list(http, since="2026-11-24")
        assert [item["id"] for item in recent["data"]] == [m["id"] for m in made[:2]]
        assert (await _list(http, parent=oldest))["data"] == []


async def test_children_are_the_images_whose_parent_ids_name_the_image(served) -> None:
    gateway = served.gateway
    parent = await seed_image(gateway, model="placeholder", created=DAY)
    other = await seed_image(gateway, model="placeholder", created=DAY + timedelta(hours=1))
    child = await seed_image(gateway, model="placeholder", created=DAY + timedelta(days=1), parent_ids=[parent])
    both = await seed_image(gateway, model="placeholder", created=DAY + timedelta(days=2), parent_ids=[other, parent])
    await seed_image(gateway, model="placeholder", created=DAY + timedelta(days=3), parent_ids=[other])
    async with aiohttp.ClientSession(served.base_url) as http:
        assert [item["id"] for item in (await _list(http, parent=parent))["data"]] == [both, child]
        assert await _all_pages(http, parent=parent, limit="1") == [both, child]
        assert (await _list(http, parent=child))["data"] == []


async def test_invalid_queries_name_the_parameter(served) -> None:
    async with aiohttp.ClientSession(served.base_url) as http:
        for query, param in [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "x"}, "limit"),
                             ({"before": "../etc"}, "before"), ({"parent": "img_1"}, "parent"),
                             ({"since": "yesterday"}, "since"), ({"until": "2026-13-01"}, "until"),
                             ({"since": "2026-11-22", "until": "2026-11-21"}, "until")]:
            error = await _error(http, **query)
            assert error["param"] == param and error["code"] == "invalid_request", (query, error)
        assert "1 to 100" in (await _error(http, limit="0"))["message"]
        assert "ISO 8601" in (await _error(http, since="yesterday"))["message"]


async def test_the_listing_needs_the_key_when_keys_are_set(serve) -> None:
    served = await serve(options={"api_keys": ["k-gallery"]})
    async with aiohttp.ClientSession(served.base_url) as http:
        async with http.get("/v1/images", params={"model": "placeholder"}) as response:
            assert response.status == 401
        async with http.get("/v1/images", headers={"Authorization": "Bearer k-gallery"}) as response:
            assert response.status == 200


class _Listing:
    """A gateway whose storage lists ``items`` newest first and counts the images it read."""

    def __init__(self, items: list[dict]) -> None:
        self.items = items
        self.read = 0
        self.calls = 0

    async def list(self, limit: int, before: str | None) -> list[dict]:
        ids = [item["id"] for item in self.items]
        start = ids.index(before) + 1 if before else 0
        page = self.items[start:start + limit]
        self.read += len(page)
        self.calls += 1
        return page


async def test_a_scan_stops_at_its_budget_and_says_where_to_go_on(served) -> None:
    made = await _seed_week(served.gateway)
    items = await served.gateway.list(limit=100)
    listing = _Listing(items)
    oldest = ImageQuery(limit=5, models=frozenset({"test-streamer"}), until=DAY + timedelta(minutes=1))
    page = await find_images(listing, oldest, scan_limit=4)
    assert page.data == [] and page.has_more is True and page.last_id == made[3]["id"] and listing.read == 4
    rest = await find_images(listing, ImageQuery(**{**_fields(oldest), "before": page.last_id}), scan_limit=100)
    assert [item["id"] for item in rest.data] == [made[-1]["id"]] and rest.has_more is False


async def test_a_date_or_parent_scan_stops_at_the_first_older_day() -> None:
    """Ids carry their day: the second batch of 200 is never read when the first reaches older days."""
    items = [{"id": new_image_id(DAY - timedelta(hours=index)), "model": "m",
              "created": (DAY - timedelta(hours=index)).isoformat()} for index in range(250)]
    listing = _Listing(items)
    page = await find_images(listing, ImageQuery(since=DAY - timedelta(hours=5)))
    assert len(page.data) == 6 and page.has_more is False and listing.calls == 1
    listing.calls = 0
    await find_images(listing, ImageQuery(parent=items[3]["id"]))
    assert listing.calls == 1
    listing.calls = 0
    await find_images(listing, ImageQuery(models=frozenset({"other"})))
    assert listing.calls == 2  # a model filter reads on to the end


def _fields(query: ImageQuery) -> dict:
    return {name: getattr(query, name) for name in ImageQuery.__dataclass_fields__}


@pytest.mark.parametrize("value", ["2026-11-21", "2026-11-21T00:00:00", "2026-11-21T00:00:00Z"])
def test_dates_without_a_zone_are_utc(value: str) -> None:
    class Catalog:
        class registry:  # noqa: N801
            @staticmethod
            def find(name: str) -> None:
                return None

    query = ImageQuery.parse({"since": value}, Catalog())
    assert query.since == datetime(2026, 11, 21, tzinfo=UTC)
