"""``GET /v1/images`` filters and cursor paging: by model, creation time and parent image.
Cached thumbnails (stored images made by ``GET /v1/images/{id}/thumbnail``) are never listed.

Storage backends list newest first with an id cursor (``before``) and nothing else, so a filtered
page is found by reading the listing in batches and keeping the images that match, up to
:data:`SCAN_LIMIT` images per request. The answer's ``last_id`` is the cursor to continue from: the
last image answered, or, when the scan budget ran out first, the last image read (``has_more`` is
then true even if the page is short). Image ids carry their UTC day, so a scan stops at the first
image from a day before ``since`` (or before the parent's day, for ``parent``: children are newer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from imagegate import InvalidRequest
from imagegate.files import is_image_id, shard_of

from .quoting import quote

if TYPE_CHECKING:
    from imagegate import Caller, Gateway

__all__ = ["SCAN_LIMIT", "ImagePage", "ImageQuery", "find_images"]

SCAN_LIMIT = 2000
_BATCH = 200
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class ImagePage:
    """One page of matches, and where the next one starts."""

    data: list[dict[str, Any]]
    last_id: str | None
    has_more: bool


def _image_id(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name) or None
    if value is not None and not is_image_id(value):
        msg = f"{name}={quote(value, 40)} is not an image id (img_YYYYMMDD_...)"
        raise InvalidRequest(msg, param=name)
    return value


def _time(query: Mapping[str, str], name: str) -> datetime | None:
    """An ISO 8601 date or date-time; without a zone it is UTC."""
    value = query.get(name) or None
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{name}={quote(value, 40)} must be an ISO 8601 date (2026-12-05) or date-time (2026-12-05T10:00:00Z)"
        raise InvalidRequest(msg, param=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _limit(query: Mapping[str, str]) -> int:
    text = query.get("limit", "50")
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        msg = f"limit={quote(text, 20)} must be an integer from 1 to {MAX_LIMIT}"
        raise InvalidRequest(msg, param="limit")
    return limit


def _day_of(image_id: str) -> date:
    year, month, day = shard_of(image_id)
    return date(int(year), int(month), int(day))


def _created(item: dict[str, Any]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(item["created"])
    except (KeyError, TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ImageQuery:
    """``limit``, ``before`` (cursor), ``model``, ``since`` (inclusive), ``until`` (exclusive),
    ``parent`` (images whose ``parent_ids`` name it)."""

    limit: int = 50
    before: str | None = None
    models: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    parent: str | None = None
    caller: Caller | None = None
    """Only images this caller may see (its own; any for an admin)."""

    @classmethod
    def parse(cls, query: Mapping[str, str], gateway: Gateway, caller: Caller | None = None) -> ImageQuery:
        """Validate the query string; a model is matched by the name given and the id it resolves to."""
        models: frozenset[str] = frozenset()
        if name := query.get("model"):
            spec = gateway.registry.find(name)
            models = frozenset({name, spec.id} if spec else {name})
        since, until = _time(query, "since"), _time(query, "until")
        if since and until and since >= until:
            msg = "since must be earlier than until"
            raise InvalidRequest(msg, param="until")
        return cls(limit=_limit(query), before=_image_id(query, "before"), models=models,
                   since=since, until=until, parent=_image_id(query, "parent"), caller=caller)

    @property
    def filtered(self) -> bool:
        return bool(self.models or self.since or self.until or self.parent or (self.caller and not self.caller.admin))

    def _oldest_day(self) -> date | None:
        days = [d for d in (self.since and self.since.astimezone(UTC).date(),
                            self.parent and _day_of(self.parent)) if d]
        return max(days) if days else None

    def matches(self, item: dict[str, Any]) -> bool:
        if self.caller is not None and not self.caller.sees(item):
            return False
        if self.models and item.get("model") not in self.models:
            return False
        if self.since or self.until:
            created = _created(item)
            if created is None or (self.since and created < self.since) or (self.until and created >= self.until):
                return False
        if self.parent:
            parents = item.get("parent_ids")
            return isinstance(parents, list) and self.parent in parents
        return True

    def past_the_end(self, image_id: str) -> bool:
        """Whether this image, and so every older one, is too old to match."""
        oldest = self._oldest_day()
        return oldest is not None and is_image_id(image_id) and _day_of(image_id) < oldest


async def find_images(gateway: Gateway, query: ImageQuery, scan_limit: int = SCAN_LIMIT) -> ImagePage:
    """The page ``query`` asks for, reading at most ``scan_limit`` images' metadata."""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    cursor = query.before
    batch = _BATCH if query.filtered else query.limit + 1
    while len(seen) < scan_limit:
        asked = min(batch, scan_limit - len(seen))
        items = await gateway.list(limit=asked, before=cursor)
        for item in items:
            image_id = item["id"]
            if item.get("operation") == "thumbnail":  # a cache entry, written late under its source's day
                seen.add(image_id)
                cursor = image_id
                continue
            if image_id in seen or query.past_the_end(image_id):  # a repeat: the listing restarted
                return _page(found, query.limit, more=False)
            seen.add(image_id)
            cursor = image_id
            if query.matches(item):
                found.append(item)
                if len(found) > query.limit:
                    return _page(found, query.limit, more=True)
        if len(items) < asked:
            return _page(found, query.limit, more=False)
    return ImagePage(found, cursor, has_more=True)


def _page(found: list[dict[str, Any]], limit: int, *, more: bool) -> ImagePage:
    data = found[:limit]
    return ImagePage(data, data[-1]["id"] if data else None, has_more=more)
