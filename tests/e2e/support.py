"""Helpers the e2e tests share (fixtures live in conftest.py): the secrets the fakes take, a plain
S3 client, and the kit's ``run_cli`` checked for those secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagegate.testing import CliRun
from imagegate.testing import run_cli as run_imagegate_cli

SPECS = Path(__file__).resolve().parents[2] / "specs"
OPENAI_KEY = "sk-e2e-SECRET-0123456789abcdef"
REPLICATE_TOKEN = "r8_e2e_SECRET_0123456789"
SIGNING_KEY = "e2e-signing-key-0123456789abcdef"
SECRETS = (OPENAI_KEY, REPLICATE_TOKEN)


def s3_client(endpoint: str) -> Any:
    """A plain boto3 client, to look into the bucket behind the gateway's back."""
    from imagegate_storage_s3.testing import bucket_client

    return bucket_client(endpoint)


async def run_cli(env: dict[str, str], *args: str) -> CliRun:
    """``imagegate ARGS`` with ``env`` over this environment (:func:`imagegate.testing.run_cli`);
    no secret may appear in its output."""
    return await run_imagegate_cli(env, *args, secrets=SECRETS)
