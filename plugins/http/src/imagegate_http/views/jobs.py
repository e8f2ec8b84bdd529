"""``/v1/images/jobs``: the caller's jobs, one job (long-polled with ``?wait=N``), and cancel.

Every generate, edit and variation is recorded as a job (see :mod:`imagegate_http.job_asks` for
``Prefer: respond-async`` and ``Idempotency-Key``). Jobs are the caller's: another API key's job
is ``not_found``; an admin key (a ``GATEWAY__API_KEYS`` one, or ``imagegate keys create --admin``)
sees and lists every key's.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from imagegate import InvalidRequest, NotFound

from ..envelope import json_response, pieces_response
from ..job_answers import job_pieces, job_summary
from ..job_asks import jobs_owner
from ..keys import GATEWAY
from ..quoting import quote

__all__ = ["MAX_WAIT_S", "cancel_job", "get_job", "list_jobs"]

MAX_WAIT_S = 60
_MAX_LIMIT = 100


def _wait_s(query: Mapping[str, str]) -> float:
    text = query.get("wait", "0")
    try:
        wait = float(text)
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= MAX_WAIT_S:
        msg = f"wait={quote(text, 20)} must be a number of seconds from 0 to {MAX_WAIT_S}"
        raise InvalidRequest(msg, param="wait")
    return wait


def _limit(query: Mapping[str, str]) -> int:
    text = query.get("limit", "20")
    limit = int(text) if text.isdigit() else 0
    if not 1 <= limit <= _MAX_LIMIT:
        msg = f"limit={quote(text, 20)} must be an integer from 1 to {_MAX_LIMIT}"
        raise InvalidRequest(msg, param="limit")
    return limit


def _cursor(query: Mapping[str, str]) -> tuple[str, str] | None:
    """``after`` (OpenAI's name) or ``before`` (as in ``GET /v1/images``): list the jobs older than it."""
    given = [(name, query[name]) for name in ("after", "before") if query.get(name)]
    if len(given) > 1:
        msg = "send after or before, not both (each lists the jobs older than the one named)"
        raise InvalidRequest(msg, param="before")
    return given[0] if given else None


async def list_jobs(request: web.Request) -> web.Response:
    """GET /v1/images/jobs?limit=&after=: the caller's jobs, newest first (without ``result``)."""
    gateway = request.app[GATEWAY]
    owner = jobs_owner(request)
    limit = _limit(request.query)
    cursor = _cursor(request.query)
    if cursor is not None:
        try:
            await gateway.jobs.get(cursor[1], owner)
        except NotFound:
            msg = f"{cursor[0]}={quote(cursor[1], 40)} names no job of this API key"
            raise NotFound(msg, param=cursor[0]) from None
    records = await gateway.jobs.list(owner, limit + 1, cursor[1] if cursor else None)
    data = [job_summary(gateway, record) for record in records[:limit]]
    return json_response({"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                          "last_id": data[-1]["id"] if data else None, "has_more": len(records) > limit})


async def get_job(request: web.Request) -> web.StreamResponse:
    """GET /v1/images/jobs/{id}?wait=N: the job, after waiting up to N s for it to finish."""
    gateway = request.app[GATEWAY]
    wait = _wait_s(request.query)
    job_id, owner = request.match_info["id"], jobs_owner(request)
    record = await gateway.jobs.wait(job_id, owner, wait) if wait else await gateway.jobs.get(job_id, owner)
    return await pieces_response(request, await job_pieces(gateway, record))


async def cancel_job(request: web.Request) -> web.StreamResponse:
    """DELETE /v1/images/jobs/{id}: cancel a queued or running job (its upstream too, where the
    provider can); a finished job is answered as it is."""
    gateway = request.app[GATEWAY]
    record = await gateway.jobs.cancel(request.match_info["id"], jobs_owner(request))
    return await pieces_response(request, await job_pieces(gateway, record))
