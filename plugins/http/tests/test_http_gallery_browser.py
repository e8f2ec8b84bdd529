"""``/gallery`` in a real browser: Debian's headless ``chromium`` driven over the DevTools protocol
(:mod:`.headless`) against the real app with local storage and API keys set. Screenshots of each
step are written under the test's ``tmp_path`` (the path is printed; ``pytest -s`` shows it).
Skipped, saying why, when chromium is not installed (``make tools`` installs it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from imagegate._transforms import thumbnail_id

from .headless import Chromium, Page, chromium_path, headless_chromium
from .seeding import seed_image

KEY = "k-gallery-browser"
START = datetime(2026, 11, 1, 9, tzinfo=UTC)
PAGE_SIZE = 24  # gallery.js lists 24 images a page

pytestmark = pytest.mark.skipif(chromium_path() is None,
                                reason="needs Debian's chromium at /usr/bin/chromium (`make tools` installs it)")

IDLE = "!document.body.dataset.busy && document.body.dataset.view === %s"
GRID_IDS = "[...document.querySelectorAll('#grid li.card')].map((li) => li.dataset.id)"
IMAGES_SHOWN = ("[...document.querySelectorAll('#grid img')].every((img) => img.complete && img.naturalWidth > 0"
                " && img.src.startsWith('blob:'))")


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Chromium]:
    async with headless_chromium(tmp_path / "profile", chromium_path() or "") as chromium:
        yield chromium


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    print(f"gallery screenshots: {folder}")
    return folder


async def _idle(page: Page, view: str) -> None:
    await page.wait_for(IDLE % json.dumps(view))


def _page_problems(page: Page) -> list[str]:
    """Uncaught errors and console errors other than the failed requests a test provokes (401)."""
    return [problem for problem in page.problems if "Failed to load resource" not in problem]


async def _seed(gateway) -> list[dict]:
    """30 images, one every 7 hours from ``START``: every tenth by ``test-streamer``, the rest by
    ``placeholder``; the last one is a child (an edit) of the one before it. Newest first."""
    made: list[dict] = []
    for index in range(30):
        created = START + timedelta(hours=7 * index)
        model = "test-streamer" if index % 10 == 0 else "placeholder"
        parents = [made[-1]["id"]] if index == 29 else None
        image_id = await seed_image(gateway, model=model, created=created, prompt=f"seeded image {index}",
                                    parent_ids=parents, seed=index)
        made.append({"id": image_id, "model": model, "created": created})
    return made[::-1]


async def test_without_a_key_the_page_asks_for_one_and_lists_nothing(serve, browser: Chromium,
                                                                    shots: Path) -> None:
    served = await serve(options={"api_keys": [KEY]})
    await _seed(served.gateway)
    page = await browser.new_page()
    await page.goto(served.base_url + "/gallery")
    await _idle(page, "key-view")
    assert await page.evaluate("document.getElementById('list-view').hidden") is True
    assert await page.evaluate("document.querySelectorAll('#grid li, img[src]').length") == 0
    print(await page.screenshot(shots / "key-prompt.png"))

    await page.fill("#key-input", "not-the-key")
    await page.evaluate("document.getElementById('key-form').requestSubmit()")
    await page.wait_for("document.getElementById('error').textContent.includes('refused')")
    assert await page.evaluate("document.body.dataset.view") == "key-view"
    assert await page.evaluate("sessionStorage.getItem('imagegate.apiKey')") is None
    assert await page.evaluate("document.querySelectorAll('#grid li, img[src]').length") == 0
    assert _page_problems(page) == []


async def test_browse_filter_page_open_lineage_download_and_delete(serve, browser: Chromium, shots: Path,
                                                                  tmp_path: Path) -> None:
    served = await serve(options={"api_keys": [KEY]})
    made = await _seed(served.gateway)
    ids = [item["id"] for item in made]
    page = await browser.new_page()
    await page.goto(served.base_url + "/gallery")
    await _idle(page, "key-view")
    await page.fill("#key-input", KEY)
    await page.evaluate("document.getElementById('key-form').requestSubmit()")

    # newest first, one page of thumbnails fetched with the key and shown as blob: URLs
    await _idle(page, "list-view")
    assert await page.evaluate("sessionStorage.getItem('imagegate.apiKey')") == KEY
    assert await page.evaluate(GRID_IDS) == ids[:PAGE_SIZE]
    await page.wait_for(IMAGES_SHOWN)
    print(await page.screenshot(shots / "list-page-1.png"))
    # the cards show the gateway's cached thumbnails (which the listing never shows: see "newer" below)
    thumb = await served.gateway.metadata(thumbnail_id(ids[0], 320))
    assert thumb["operation"] == "thumbnail" and thumb["parent_ids"] == [ids[0]]

    # the next page holds the rest; back again
    await page.click("#older")
    await page.wait_for(f"{GRID_IDS}[0] === {json.dumps(ids[PAGE_SIZE])}")
    await _idle(page, "list-view")
    assert await page.evaluate(GRID_IDS) == ids[PAGE_SIZE:]
    assert await page.evaluate("document.getElementById('older').disabled") is True
    print(await page.screenshot(shots / "list-page-2.png"))
    await page.click("#newer")
    await page.wait_for(f"{GRID_IDS}[0] === {json.dumps(ids[0])}")
    await _idle(page, "list-view")
    assert await page.evaluate(GRID_IDS) == ids[:PAGE_SIZE]

    # by model
    await page.fill("#filter-model", "test-streamer")
    await page.evaluate("document.getElementById('filters').requestSubmit()")
    streamer = [item["id"] for item in made if item["model"] == "test-streamer"]
    await page.wait_for(f"{GRID_IDS}.length === {len(streamer)}")
    await _idle(page, "list-view")
    assert await page.evaluate(GRID_IDS) == streamer
    await page.wait_for(IMAGES_SHOWN)
    print(await page.screenshot(shots / "filter-model.png"))

    # by date (one UTC day, both ends inclusive) on top of the model
    await page.fill("#filter-model", "")
    day = made[5]["created"].date()
    await page.fill("#filter-since", day.isoformat())
    await page.fill("#filter-until", day.isoformat())
    await page.evaluate("document.getElementById('filters').requestSubmit()")
    that_day = [item["id"] for item in made if item["created"].date() == day]
    await page.wait_for(f"JSON.stringify({GRID_IDS}) === {json.dumps(json.dumps(that_day, separators=(',', ':')))}")
    await _idle(page, "list-view")
    print(await page.screenshot(shots / "filter-date.png"))
    await page.click("#filter-clear")
    await page.wait_for(f"{GRID_IDS}.length === {PAGE_SIZE}")

    # the detail of the child: its fields and a link to its parent
    child, parent = made[0], made[1]
    await page.click(f"#grid li[data-id={json.dumps(child['id'])}] a")
    await _idle(page, "detail-view")
    fields = await page.evaluate("document.getElementById('detail-fields').innerText")
    for text in (child["id"], "seeded image 29", "placeholder", "64 × 64 px", "$0.0400", "image/png"):
        assert text in fields
    await page.wait_for("document.getElementById('detail-image').naturalWidth === 64")
    assert await page.evaluate("[...document.querySelectorAll('#parents a')].map((a) => a.textContent)") == [
        parent["id"]]
    assert await page.evaluate("document.getElementById('children').innerText.trim()") == "none"
    print(await page.screenshot(shots / "detail-child.png"))

    # the parent's detail, through the link, lists the child
    await page.click("#parents a")
    await page.wait_for(f"location.hash.includes({json.dumps(parent['id'])})")
    await _idle(page, "detail-view")
    assert await page.evaluate("[...document.querySelectorAll('#children a')].map((a) => a.textContent)") == [
        child["id"]]
    print(await page.screenshot(shots / "detail-parent.png"))

    # download: the stored bytes, named after the id
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    await browser.allow_downloads(downloads)
    await page.click("#download")
    done = await page.wait_for_event("Browser.downloadProgress", lambda params: params["state"] != "inProgress")
    assert done["state"] == "completed"
    saved = downloads / f"{parent['id']}.png"
    assert saved.read_bytes() == await served.gateway.storage.read(parent["id"])

    # delete asks first; cancelling keeps the image
    await page.click("#delete")
    assert await page.evaluate("document.getElementById('confirm-delete').open") is True
    assert await page.evaluate("document.getElementById('confirm-id').textContent") == parent["id"]
    print(await page.screenshot(shots / "delete-confirm.png"))
    await page.click("#confirm-cancel")
    assert await page.evaluate("document.getElementById('confirm-delete').open") is False
    headers = {"Authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession(served.base_url, headers=headers) as http:
        async with http.get(f"/v1/images/{parent['id']}") as response:
            assert response.status == 200

        await page.click("#delete")
        await page.click("#confirm-yes")
        await page.wait_for("document.getElementById('notice').textContent.includes('Deleted')")
        await _idle(page, "list-view")
        assert parent["id"] not in await page.evaluate(GRID_IDS)
        print(await page.screenshot(shots / "deleted.png"))
        async with http.get(f"/v1/images/{parent['id']}") as response:
            assert response.status == 404
    assert _page_problems(page) == []
