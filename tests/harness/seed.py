#!/usr/bin/env python3
"""Create a secret in the test Secrets Manager (or add a new version if it exists).

    .venv/bin/python tests/harness/seed.py --endpoint URL --region R --name NAME --file doc.json

The file's text is stored verbatim as the SecretString (``--file -`` reads stdin), so
tests can seed malformed documents too. Prints one JSON line with the ARN and VersionId;
the secret value is never printed, so seeding is safe to log.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def isolate_from_user_aws_config() -> None:
    """Keep a developer's profile or config files from leaking into the test endpoint.

    botocore raises ProfileNotFound for an AWS_PROFILE that the (empty) config lacks, and
    a real config file could inject settings, so both are neutralised before import.
    """
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def read_value(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def seed(endpoint: str, region: str, name: str, value: str) -> dict[str, str]:
    """Create ``name`` or, if it already exists, put ``value`` as its new current version."""
    import boto3

    client = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        result = client.create_secret(Name=name, SecretString=value)
    except client.exceptions.ResourceExistsException:
        result = client.put_secret_value(SecretId=name, SecretString=value)
    return {"ARN": result["ARN"], "VersionId": result["VersionId"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="Secrets Manager endpoint (moto or the proxy)")
    parser.add_argument("--region", required=True)
    parser.add_argument("--name", required=True, help="secret name")
    parser.add_argument("--file", required=True, help="file whose text becomes the SecretString ('-' = stdin)")
    args = parser.parse_args(argv)

    isolate_from_user_aws_config()
    print(json.dumps(seed(args.endpoint, args.region, args.name, read_value(args.file))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
