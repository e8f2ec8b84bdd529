"""What front-end plugins (HTTP, MCP, a new transport) share beyond ``imagegate.__all__``.

* :class:`BearerCheck`: constant-time API-key check with a throttle on failed keys;
* :class:`SlidingWindow`: the requests-per-window limiter;
* :class:`TrustedProxies`: the client address behind trusted reverse proxies (``X-Forwarded-For``);
* :func:`configure_logging`, :func:`use_formatter`, :class:`Redactor`: logs without secrets or payloads;
* :func:`read_body`: a bounded read of an HTTP body;
* :func:`owner_of`, :func:`fingerprint`: whose jobs a caller sees, and a request's idempotency digest;
* :func:`check_schema`: JSON-Schema errors as ``invalid_request`` naming the argument;
* :func:`make_plugin_manager`, :func:`load_failures`: plugin loading and what failed to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_getattr

if TYPE_CHECKING:
    from ._bearer import BearerCheck
    from ._http_client import read_body
    from ._job_runs import fingerprint, owner_of
    from ._limits import SlidingWindow
    from ._logsetup import configure_logging, use_formatter
    from ._plugins import load_failures, make_plugin_manager
    from ._proxies import TrustedProxies
    from ._redact import Redactor
    from ._schema_errors import check_schema

_LAZY: dict[str, str] = {
    "BearerCheck": "imagegate._bearer",
    "read_body": "imagegate._http_client",
    **dict.fromkeys(["fingerprint", "owner_of"], "imagegate._job_runs"),
    "SlidingWindow": "imagegate._limits",
    **dict.fromkeys(["configure_logging", "use_formatter"], "imagegate._logsetup"),
    **dict.fromkeys(["load_failures", "make_plugin_manager"], "imagegate._plugins"),
    "TrustedProxies": "imagegate._proxies",
    "Redactor": "imagegate._redact",
    "check_schema": "imagegate._schema_errors",
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_getattr("imagegate.frontend", _LAZY)
