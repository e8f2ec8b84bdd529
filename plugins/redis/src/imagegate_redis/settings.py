"""``REDIS__*``: where Redis is and what the replicas share through it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["RedisSettings"]


class RedisSettings(BaseModel):
    """The ``redis`` section; unset ``url`` leaves the plugin idle (everything stays in-process)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description=(
        "redis://[:password@]host:port/db (rediss:// for TLS, unix:///path.sock); unset: Redis is not used."))
    prefix: str = Field("imagegate:", min_length=1, description=(
        "Prefix of every key, so several deployments can share one Redis database."))
    socket_timeout_s: float = Field(5.0, gt=0, le=60, description=(
        "Connect and read timeout of one Redis call: how long an operation can hang when Redis is lost."))
    shared_limits: bool = Field(True, description=(
        "Hold each provider's RPM and max_concurrency across every replica in Redis (false: per process)."))
    shared_signing_key: bool = Field(True, description=(
        "Without GATEWAY__URL_SIGNING_KEY, keep one generated /files signing key in Redis for every replica."))

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://host:port/db, rediss://host:port/db or unix:///path/to/redis.sock")
        return value
