"""moto's in-process mock, as seen from this package (used by the native layer on a cache miss).

Starfleet's tests wrap AWS in ``with mock_aws():`` (moto 5), which patches botocore inside the
process; the Rust core's own HTTP client would go to the network instead. So while a mock is
active the native layer fetches through :func:`get_secret_value` here, a botocore client
built as ``boto3.client("secretsmanager", region_name=...)`` would be (honouring the same
environment as boto3), on the calling thread, and maps its outcome to the core's typed errors.

This module is only imported once ``moto.core.models`` is in ``sys.modules`` (the native layer
looks there first), and only touches moto's private state defensively: any surprise means
"no mock". It never imports moto; it imports boto3 only while a mock is active (moto has
imported it then).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Optional, Tuple

    _Answer = Tuple[str, Optional[str], Optional[str], Optional[str], Optional[bytes], Optional[float]]


def active(models: ModuleType) -> bool:
    """Whether a moto 5 mock is active now.

    ``MockAWS._mocks_active`` is set by ``mock_aws()`` while any mock is started (moto 5.0 and
    later); ``botocore_stubber.enabled`` is the patch itself, also honoured for mocks started
    another way. Both are private, hence the guard.
    """
    try:
        mock_class = getattr(models, "MockAWS", None)
        if mock_class is not None and bool(getattr(mock_class, "_mocks_active", False)):
            return True
        stubber = getattr(models, "botocore_stubber", None)
        return stubber is not None and bool(getattr(stubber, "enabled", False))
    except Exception:  # noqa: BLE001 - private state of another package: never fail because of it
        return False


def get_secret_value(
    secret_id: str,
    region: str,
    version_stage: Optional[str],
    version_id: Optional[str],
    endpoint_url: Optional[str] = None,
) -> _Answer:
    """One GetSecretValue through the mock.

    An explicit ``endpoint_url`` (the manager's option) goes to the client as
    ``boto3.client(endpoint_url=...)`` would take it: moto only intercepts AWS's own hosts, so
    the read then goes to that endpoint, as it would from the application's own boto3 code.

    Returns ``("ok", Name, VersionId, SecretString, SecretBinary, CreatedDate as Unix seconds)``,
    or for a failure ``("aws", error code, error message, None, None, None)``,
    ``("credentials", exception type, ...)``
    or ``("network", exception type, ...)``: the native layer turns these into the core's
    typed errors (core's ``source::service_error`` for AWS codes). Exception texts are not passed on.
    """
    # Untyped packages of the test environment (never imported outside a mock).
    import boto3  # type: ignore[import-untyped,unused-ignore]
    from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    client = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    request = {"SecretId": secret_id}
    if version_id is not None:
        request["VersionId"] = version_id
    elif version_stage is not None:
        request["VersionStage"] = version_stage
    try:
        out = client.get_secret_value(**request)
    except ClientError as e:
        error = e.response.get("Error", {})
        return ("aws", str(error.get("Code", "Unknown")), str(error.get("Message", "")), None, None, None)
    except (NoCredentialsError, PartialCredentialsError) as e:
        return ("credentials", type(e).__name__, None, None, None, None)
    except BotoCoreError as e:
        return ("network", type(e).__name__, None, None, None, None)
    binary = out.get("SecretBinary")
    created = out.get("CreatedDate")  # a datetime (botocore parses the timestamp)
    return (
        "ok",
        out.get("Name"),
        out.get("VersionId"),
        out.get("SecretString"),
        None if binary is None else bytes(binary),
        created.timestamp() if hasattr(created, "timestamp") else None,
    )
