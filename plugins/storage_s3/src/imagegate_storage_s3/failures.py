"""Turning botocore's exceptions into the gateway's errors, with messages a user can act on.

Messages name the bucket, the endpoint (without any user info) and the S3 error code, never the
server's free text, request signatures or credentials.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from imagegate import ImagegateError, NotFound, StorageError

__all__ = ["CREDENTIALS_HINT", "Where", "error_code", "map_error"]

CREDENTIALS_HINT = (
    "check the credentials of the AWS credential chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / "
    "AWS_SESSION_TOKEN, AWS_PROFILE and ~/.aws/credentials, or the instance role)"
)

_MISSING_KEY = {"NoSuchKey", "NotFound", "404"}
_CREDENTIALS = {
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
    "InvalidClientTokenId", "AuthorizationHeaderMalformed", "UnrecognizedClientException",
}
_DENIED = {"AccessDenied", "AllAccessDisabled", "403"}


class Where:
    """The bucket and endpoint an error message names."""

    def __init__(self, bucket: str, endpoint_url: str | None, region: str | None) -> None:
        self.bucket = bucket
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            host = parts.hostname or "?"
            self.endpoint = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
        else:
            self.endpoint = f"AWS S3 ({region or 'default region'})"

    def missing_bucket(self) -> StorageError:
        msg = (f"bucket {self.bucket!r} does not exist at {self.endpoint}; create it or set "
               "STORAGE__S3__BUCKET to an existing bucket")
        return StorageError(msg, param="STORAGE__S3__BUCKET", retryable=False)

    def bad_credentials(self, code: str) -> StorageError:
        msg = f"{self.endpoint} refused the credentials for bucket {self.bucket!r} ({code}); {CREDENTIALS_HINT}"
        return StorageError(msg, retryable=False)

    def denied(self, code: str) -> StorageError:
        msg = (f"access to bucket {self.bucket!r} at {self.endpoint} was denied ({code}); "
               f"{CREDENTIALS_HINT} and the bucket policy")
        return StorageError(msg, retryable=False)


def error_code(exc: Exception) -> str | None:
    """The S3 error code of a botocore ``ClientError`` (None for anything else)."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "unknown"))
    return None


def map_error(exc: Exception, where: Where, action: str, image_id: str | None = None) -> ImagegateError:
    """The gateway error for a failed S3 call (``action`` names it, e.g. ``PutObject``).

    ``image_id`` marks calls on one image's objects: a missing key is then ``NotFound``.
    """
    from botocore.exceptions import (
        ClientError,
        ConnectionError as BotoConnectionError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    if isinstance(exc, ImagegateError):
        return exc
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        msg = f"no usable AWS credentials for bucket {where.bucket!r}; {CREDENTIALS_HINT}"
        return StorageError(msg, retryable=False)
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        msg = f"cannot reach the S3 endpoint {where.endpoint} ({type(exc).__name__} during {action})"
        return StorageError(msg)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "unknown"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket" or (action == "HeadBucket" and code == "404"):
            return where.missing_bucket()
        if image_id is not None and code in _MISSING_KEY:
            msg = f"no image with id {image_id}"
            return NotFound(msg, param="id")
        if code in _CREDENTIALS or (action == "HeadBucket" and code == "403"):
            return where.bad_credentials(code)
        if code in _DENIED:
            return where.denied(code)
        if code == "NotImplemented":
            msg = (f"{where.endpoint} does not implement {action} as used here; for servers without "
                   "conditional writes set STORAGE__S3__CONDITIONAL_WRITES=false")
            return StorageError(msg, retryable=False)
        retryable = status is None or status >= 500 or code in {"SlowDown", "Throttling", "RequestTimeout"}
        msg = f"S3 {action} on bucket {where.bucket!r} at {where.endpoint} failed: {code} (HTTP {status})"
        return StorageError(msg, retryable=retryable)
    msg = f"S3 {action} on bucket {where.bucket!r} at {where.endpoint} failed ({type(exc).__name__})"
    return StorageError(msg)
