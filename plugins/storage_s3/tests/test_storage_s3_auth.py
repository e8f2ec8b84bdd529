"""Credentials against a moto server with authentication on: good keys work, wrong keys get 403."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from imagegate._errors import StorageError
from imagegate._ids import new_image_id
from imagegate_storage_s3.backend import S3Storage
from imagegate_storage_s3.settings import S3Settings
from imagegate_storage_s3.testing import MotoServer

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@pytest.fixture(scope="module")
def secured() -> Iterator[dict[str, str]]:
    """A server whose first four calls are free: a user, its key, its policy and a bucket."""
    import boto3

    server = MotoServer(free_actions=4).start()
    try:
        plain = {"endpoint_url": server.url, "region_name": "us-east-1",
                 "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        iam = boto3.client("iam", **plain)
        iam.create_user(UserName="imagegate")
        key = iam.create_access_key(UserName="imagegate")["AccessKey"]
        iam.put_user_policy(UserName="imagegate", PolicyName="s3", PolicyDocument=json.dumps(POLICY))
        bucket = f"secured-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", **{**plain, "aws_access_key_id": key["AccessKeyId"],
                               "aws_secret_access_key": key["SecretAccessKey"]}).create_bucket(Bucket=bucket)
        yield {"url": server.url, "bucket": bucket, "key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    finally:
        server.stop()


def storage_with(secured: dict[str, str], monkeypatch: pytest.MonkeyPatch, key_id: str, secret: str) -> S3Storage:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return S3Storage(S3Settings(bucket=secured["bucket"], endpoint_url=secured["url"], max_attempts=1))


def meta(image_id: str) -> dict[str, Any]:
    return {"id": image_id, "extension": "png", "mime_type": "image/png", "bytes": 4}


async def test_keys_from_the_aws_chain_are_used(secured: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    storage = storage_with(secured, monkeypatch, secured["key_id"], secured["secret"])
    try:
        await storage.check_writable()
        image_id = new_image_id()
        await storage.save(image_id, b"\x89PNG", meta(image_id))
        assert await storage.read(image_id) == b"\x89PNG"
    finally:
        await storage.aclose()


def test_the_server_really_checks_keys(secured: dict[str, str]) -> None:
    import boto3
    from botocore.exceptions import ClientError

    wrong = boto3.client("s3", endpoint_url=secured["url"], region_name="us-east-1",
                         aws_access_key_id="AKIAWRONGWRONGWRONG", aws_secret_access_key="nope")
    with pytest.raises(ClientError) as caught:
        wrong.list_objects_v2(Bucket=secured["bucket"])
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("which", ["unknown key id", "wrong secret"])
async def test_wrong_credentials_are_a_clear_final_storage_error(
        secured: dict[str, str], monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    secret = "s3cr3t-that-must-not-leak"
    key_id = "AKIAWRONGWRONGWRONG" if which == "unknown key id" else secured["key_id"]
    storage = storage_with(secured, monkeypatch, key_id, secret)
    try:
        with pytest.raises(StorageError) as at_start:
            await storage.check_writable()
        image_id = new_image_id()
        with pytest.raises(StorageError) as on_save:
            await storage.save(image_id, b"\x89PNG", meta(image_id))
    finally:
        await storage.aclose()
    for caught in (at_start, on_save):
        error = caught.value
        assert error.retryable is False
        assert "AWS credential chain" in error.message
        assert secured["bucket"] in error.message
        assert secret not in error.message
        assert secret not in str(error.to_dict())
        assert "Signature=" not in error.message
