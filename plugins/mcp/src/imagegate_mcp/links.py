"""Signed file links over streamable HTTP: ``/files/{id}?exp=&sig=`` on the same server as ``/mcp``.

A remote assistant cannot open a server-local path, so over HTTP each result image gets a URL it can
fetch: the storage's own URL when it has one (S3), else a link signed with the core's
:class:`~imagegate._signing.UrlSigner`, based at ``GATEWAY__PUBLIC_URL`` when set (the same signer
and key the HTTP front-end uses) or at this server's own address. The route needs no bearer key:
the unexpired signature is the permission. The file is found by id through the gateway, never by
a path from the request; SVG is served under a sandboxing CSP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Gateway
    from imagegate.files import UrlSigner

__all__ = ["FILES_PREFIX", "FileLinks"]

FILES_PREFIX = "/files/"
_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"}


class FileLinks:
    """Signs the links of one server and serves them (an ASGI app for ``/files/{id}``)."""

    def __init__(self, gateway: Gateway, base_url: str) -> None:
        from imagegate.files import signer_for

        self._gateway = gateway
        configured = gateway.file_signer() if gateway.settings.gateway.public_url else None
        self.signer: UrlSigner = configured or signer_for(  # type: ignore[assignment]
            base_url, gateway.settings.gateway.signing_key(), gateway.spool.root)

    def url(self, image_id: str) -> str:
        return self.signer.url(image_id, self._gateway.settings.gateway.url_ttl_s)

    def fill(self, contract: dict[str, Any]) -> None:
        """Give every image of a result a URL a remote client can fetch (keeping a storage URL)."""
        for image in contract["images"]:
            if not str(image["url"] or "").startswith(("https:", "http:")):
                image["url"] = self.url(image["id"])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        import orjson
        from imagegate import ImagegateError, NotFound, PermissionDenied
        from imagegate.files import is_image_id
        from starlette.requests import Request
        from starlette.responses import Response

        from .errors import error_object

        request = Request(scope, receive)
        image_id = request.url.path.removeprefix(FILES_PREFIX)
        if request.method not in ("GET", "HEAD"):
            await Response(status_code=405, headers={"Allow": "GET, HEAD"})(scope, receive, send)
            return
        try:
            if not is_image_id(image_id):
                raise NotFound("no such file", param="id")
            if not self.signer.verify(image_id, request.query_params.get("exp", ""),
                                      request.query_params.get("sig", "")):
                msg = "the file URL is expired or its signature is invalid; ask for a fresh URL"
                raise PermissionDenied(msg, param="sig")
            metadata = await self._gateway.metadata(image_id)
            data = await self._gateway.read(image_id)
            response = Response(data, media_type=metadata["mime_type"], headers=_HEADERS)
        except Exception as exc:
            body = {"error": error_object(exc, "reading a file")}
            status = exc.http_status if isinstance(exc, ImagegateError) else 500
            response = Response(orjson.dumps(body), status_code=status, media_type="application/json",
                                headers={"X-Content-Type-Options": "nosniff"})
        await response(scope, receive, send)
