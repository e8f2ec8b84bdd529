"""``STORAGE__S3__*``: where the bucket is and how hard to try."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["MAX_PRESIGN_TTL_S", "S3Settings"]

MAX_PRESIGN_TTL_S = 7 * 24 * 3600
"""SigV4 presigned URLs live at most seven days."""

_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")


class S3Settings(BaseModel):
    """The ``storage.s3`` section; credentials come from the AWS chain, never from here."""

    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(min_length=3, max_length=63, description="Bucket that holds the images.")
    prefix: str = Field("", description="Key prefix, e.g. `imagegate/images`; empty for the bucket root.")
    region: str | None = Field(None, description="Region; default from the AWS chain (AWS_DEFAULT_REGION).")
    endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO, R2, Ceph); default AWS.")
    url_ttl_s: int | None = Field(
        None, ge=1, le=MAX_PRESIGN_TTL_S, description="Lifetime of presigned URLs; default GATEWAY__URL_TTL_S.")
    addressing_style: Literal["auto", "path", "virtual"] | None = Field(
        None, description="Bucket in the path or in the host name; default path with an endpoint_url, else auto.")
    conditional_writes: bool = Field(
        True, description="Refuse overwrites with `If-None-Match: *` and delete with `If-Match` (one of concurrent "
                          "deletes wins); false checks with HEAD first instead.")
    retry_mode: Literal["standard", "adaptive"] = Field("standard", description="botocore retry mode.")
    max_attempts: int = Field(5, ge=1, le=20, description="Attempts per S3 call (throttling, 5xx, connection).")
    connect_timeout_s: float = Field(10.0, gt=0, description="TCP/TLS connect timeout.")
    read_timeout_s: float = Field(60.0, gt=0, description="Socket read timeout.")
    drain_interval_s: float = Field(
        60.0, ge=0, description="Drain the spool into the bucket this often while a gateway is open; 0 turns it off.")

    @field_validator("prefix")
    @classmethod
    def _clean_prefix(cls, value: str) -> str:
        value = value.strip("/")
        if not _PREFIX_RE.match(value) or any(part in ("", ".", "..") for part in value.split("/") if value):
            msg = "use letters, digits and -_.!*'() separated by single slashes"
            raise ValueError(msg)
        return value

    def resolved_addressing_style(self) -> str:
        if self.addressing_style is not None:
            return self.addressing_style
        return "path" if self.endpoint_url else "auto"
