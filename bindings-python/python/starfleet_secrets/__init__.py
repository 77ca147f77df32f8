"""Starfleet's ``SECRETS_MANAGER``, backed by one Rust implementation.

Change one import in a Starfleet worker::

    from starfleet_secrets import SECRETS_MANAGER

    token = SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"]

and the secret is located the way Starfleet does it (arguments, then ``STARFLEET_SECRET_ID`` /
``STARFLEET_SECRET_REGION``, then the Starfleet configuration named by ``STARFLEET_CONFIG``),
fetched once, cached for a TTL (300 s by default; ``STARFLEET_SECRETS_TTL``), refreshed when it
expires (serving the last good value if a refresh fails), and every failure is a typed
:class:`StarfleetSecretsError`. Blocking calls release the GIL; the ``a``-prefixed methods never
block the event loop; a forked child gets a working client.

Everything that decides anything lives in the Rust core; this package converts types and
maps errors. See the README for the whole API.
"""

from __future__ import annotations

import atexit

from . import _native
from ._errors import (
    SecretAccessDeniedError,
    SecretDecryptionError,
    SecretFormatError,
    SecretKeyNotFoundError,
    SecretNotFoundError,
    SecretsConfigurationInvalidError,
    SecretsConfigurationMissingError,
    SecretsCredentialsError,
    SecretsInternalError,
    SecretsInvalidArgumentError,
    SecretsNetworkError,
    SecretsServiceError,
    SecretsThrottledError,
    SecretsTimeoutError,
    StarfleetSecretsError,
)

# A literal list (not built from _errors.__all__): type checkers only treat names listed
# literally as explicit re-exports (tests/test_api.py::test_typed_usage_passes_mypy_strict).
__all__ = [
    "SECRETS_MANAGER",
    "SecretsManager",
    "StarfleetSecretsError",
    "SecretsConfigurationMissingError",
    "SecretsConfigurationInvalidError",
    "SecretNotFoundError",
    "SecretAccessDeniedError",
    "SecretDecryptionError",
    "SecretsCredentialsError",
    "SecretsThrottledError",
    "SecretsTimeoutError",
    "SecretsNetworkError",
    "SecretsServiceError",
    "SecretFormatError",
    "SecretKeyNotFoundError",
    "SecretsInvalidArgumentError",
    "SecretsInternalError",
]

# Cold start matters (a Lambda container pays it once per start), so nothing heavy is
# imported here: asyncio only inside the asyncio methods (a running loop has imported it
# already), `typing` only for type checkers, `logging` not at all (the native layer hands
# records to it only if the application imported it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict

__version__: str = _native.__version__

# "no default given" for get()/aget(); None is a legitimate default.
_MISSING: Any = object()

# The native wake-up (a Unix socket pair) is not built on other platforms; there the asyncio
# methods run the blocking call in the loop's default executor instead.
_NATIVE_ASYNC = hasattr(_native, "_Pending")


async def _finished(pending: Any) -> Any:
    """Wait, without blocking the loop, until a native fetch has its outcome."""
    if pending.done():
        return pending
    import asyncio

    loop = asyncio.get_running_loop()
    woken: asyncio.Future[None] = loop.create_future()
    fd = pending.fileno()

    def wake() -> None:
        if not woken.done():
            woken.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await woken
    finally:
        loop.remove_reader(fd)
    return pending


async def _in_executor(call: Callable[[], Any]) -> Any:
    """The fallback where the native wake-up is not built: the loop's default executor."""
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, call)


class SecretsManager(_native.SecretsManager):
    """A secret in AWS Secrets Manager, lazily loaded and cached per its TTL.

    ``SecretsManager(secret_id=None, region=None, config=None, ttl=None, version_stage=None,
    version_id=None, *, max_stale=None, timeout=None, endpoint_url=None)``: every argument is
    optional and resolved by the core (argument, then environment, then the Starfleet
    configuration). ``ttl`` is seconds (``0`` = no cache) or ``"never"``; durations are seconds.
    Nothing is read or fetched until first use.
    """

    async def asecrets(self) -> Dict[str, Any]:
        """:attr:`secrets` for asyncio: the event loop keeps running while it fetches."""
        if not _NATIVE_ASYNC:
            secrets: Dict[str, Any] = await _in_executor(lambda: self.secrets)
            return secrets
        pending = await _finished(self._hit() or self._start(False))
        return self._secrets_from(pending)

    async def aget(self, *path: str, default: Any = _MISSING) -> Any:
        """:meth:`get` for asyncio."""
        kwargs = {} if default is _MISSING else {"default": default}
        if not _NATIVE_ASYNC:
            return await _in_executor(lambda: self.get(*path, **kwargs))
        pending = await _finished(self._hit() or self._start(False))
        return self._get_from(pending, *path, **kwargs)

    async def asecret_binary(self) -> bytes:
        """:attr:`secret_binary` for asyncio."""
        if not _NATIVE_ASYNC:
            data: bytes = await _in_executor(lambda: self.secret_binary)
            return data
        pending = await _finished(self._hit() or self._start(False))
        return self._binary_from(pending)

    async def arefresh(self) -> None:
        """:meth:`refresh` for asyncio."""
        if not _NATIVE_ASYNC:
            await _in_executor(self.refresh)
            return
        pending = await _finished(self._start(True))
        self._refreshed(pending)


SECRETS_MANAGER: SecretsManager = SecretsManager()
"""The process-wide manager of the Starfleet secret, located as the core resolves it."""

# A daemon thread still fetching when the interpreter shuts down must not re-enter it.
atexit.register(_native._at_exit)
