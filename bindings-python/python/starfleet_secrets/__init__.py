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

import atexit
import os

from . import _native
from ._errors import (
    SecretAccessDeniedError,
    SecretDecryptionError,
    SecretFormatError,
    SecretKeyNotFoundError,
    SecretNotFoundError,
    SecretsAccessDeniedError,
    SecretsConfigurationInvalidError,
    SecretsConfigurationMissingError,
    SecretsCredentialsError,
    SecretsDecryptionFailedError,
    SecretsFormatError,
    SecretsInternalError,
    SecretsInvalidArgumentError,
    SecretsKeyNotFoundError,
    SecretsNetworkError,
    SecretsNotFoundError,
    SecretsServiceError,
    SecretsThrottledError,
    SecretsTimeoutError,
    StarfleetSecretsError,
)

# A literal list (not built from _errors): type checkers only treat names listed
# literally as explicit re-exports (tests/test_api.py::test_typed_usage_passes_mypy_strict).
__all__ = [
    "SECRETS_MANAGER",
    "ChangeSubscription",
    "SecretsManager",
    "StarfleetSecretsError",
    "SecretsConfigurationMissingError",
    "SecretsConfigurationInvalidError",
    "SecretsNotFoundError",
    "SecretsAccessDeniedError",
    "SecretsDecryptionFailedError",
    "SecretsCredentialsError",
    "SecretsThrottledError",
    "SecretsTimeoutError",
    "SecretsNetworkError",
    "SecretsServiceError",
    "SecretsFormatError",
    "SecretsKeyNotFoundError",
    "SecretsInvalidArgumentError",
    "SecretsInternalError",
    # earlier names of the classes above (aliases)
    "SecretNotFoundError",
    "SecretAccessDeniedError",
    "SecretDecryptionError",
    "SecretFormatError",
    "SecretKeyNotFoundError",
]

# Cold start matters (a Lambda container pays it once per start), so nothing heavy is
# imported here: asyncio only inside the asyncio methods (a running loop has imported it
# already), `typing` only for type checkers (annotations that name its types are strings:
# `from __future__ import annotations` is a real import too), `weakref` only on SnapStart,
# `logging` not at all (the native layer hands records to it only if the application
# imported it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import weakref
    from typing import Any, Callable, Dict, Optional

__version__: str = _native.__version__

# What SecretsManager.on_change returns (cancel() stops the calls).
ChangeSubscription = _native.ChangeSubscription

# "no default given" for get()/aget(); None is a legitimate default.
_MISSING: "Any" = object()

# The native wake-up (a Unix socket pair) is not built on other platforms; there the asyncio
# methods run the blocking call in the loop's default executor instead.
_NATIVE_ASYNC = hasattr(_native, "_Wakeup")


class _LoopWaiters:
    """The native fetches one event loop waits for, behind one wake-up (two descriptors).

    Every fetch started for the loop rings the same wake-up when it finishes; on each ring the
    loop checks which fetches are done. So descriptors do not grow with the number of waiting
    coroutines. The reader is registered only while something waits.
    """

    def __init__(self) -> None:
        self.wakeup = _native._Wakeup()
        self._waiting: Dict[Any, Any] = {}

    async def finished(self, pending: "Any") -> "Any":
        """Wait, without blocking the loop, until ``pending`` has its outcome."""
        import asyncio

        if pending.done():
            return pending
        loop = asyncio.get_running_loop()
        woken = loop.create_future()
        if not self._waiting:
            loop.add_reader(self.wakeup.fileno(), self._wake)
        self._waiting[pending] = woken
        try:
            await woken
        finally:
            # Already gone when woken; still there when cancelled.
            self._waiting.pop(pending, None)
            if not self._waiting:
                loop.remove_reader(self.wakeup.fileno())
        return pending

    def _wake(self) -> None:
        # Drain first: a fetch finishing after this rings again.
        self.wakeup.drain()
        for pending, woken in list(self._waiting.items()):
            if pending.done():
                del self._waiting[pending]
                if not woken.done():
                    woken.set_result(None)


# One per event loop, forgotten with the loop.
_LOOPS: "Any" = None


def _waiters() -> _LoopWaiters:
    import asyncio
    import weakref

    global _LOOPS
    if _LOOPS is None:
        _LOOPS = weakref.WeakKeyDictionary()
    loop = asyncio.get_running_loop()
    try:
        waiters: _LoopWaiters = _LOOPS[loop]
    except KeyError:
        waiters = _LOOPS[loop] = _LoopWaiters()
    except TypeError:
        # A loop that cannot be weakly referenced: a wake-up for this wait alone.
        waiters = _LoopWaiters()
    return waiters


async def _native_fetch(manager: "Any", refresh: bool) -> "Any":
    """A native fetch (after a miss, or a refresh) started and awaited on this loop."""
    waiters = _waiters()
    return await waiters.finished(manager._start(refresh, waiters.wakeup))


async def _in_executor(call: "Callable[[], Any]") -> "Any":
    """The fallback where the native wake-up is not built: the loop's default executor."""
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, call)


class SecretsManager(_native.SecretsManager):
    """A secret in AWS Secrets Manager, lazily loaded and cached per its TTL.

    Every argument is optional and resolved by the core (argument, then environment, then the
    Starfleet configuration). ``ttl`` is seconds (``0`` = no cache) or ``"never"``; durations
    are seconds. ``config`` is a path (a YAML file or a directory of them), an already-loaded
    Starfleet configuration mapping, or a zero-argument callable returning either; a mapping
    or callable is consulted again at each load. Nothing is read or fetched until first use.
    ``refresh_ahead`` (a fraction of the TTL, e.g. ``0.8``) refreshes in the background once the
    value is that old, so reads never wait for a fetch after the first; ``expiry_jitter``
    (default ``0.1``) expires values up to that fraction of the TTL early, by a per-process
    random share, so a fleet started together does not refresh in lockstep.
    ``fallback_regions`` lists replica regions read from, in order, when the secret's region
    fails with a regional failure (``SecretsNetworkError``, ``SecretsTimeoutError``,
    ``SecretsServiceError``, ``SecretsThrottledError``; never ``SecretsAccessDeniedError`` and the
    like), all within one ``timeout``;
    else ``STARFLEET_SECRET_FALLBACK_REGIONS`` (comma-separated). ``stats()["region"]`` says
    which region served.
    ``source`` says where the secret is read from: ``"secretsmanager"`` (the default), or a
    secret the platform delivers: ``"file:<path>"`` (a mounted file, e.g. Kubernetes' Secrets
    Store CSI driver), ``"env:<NAME>"`` (an environment variable, e.g. ECS ``secrets``) or
    ``"flyte:<group>/<key>"`` (Flyte's injected secret); else ``STARFLEET_SECRET_SOURCE``, else
    the configuration's ``Source``. The value, errors, ``on_change`` and ``stats()`` behave the
    same; no AWS call is made for a platform-delivered secret.

    Options are taken here, so a subclass may define its own ``__init__`` and call
    ``super().__init__(**options)`` (Starfleet's adapter does).
    """

    # The options are configure()'s (typed once, in _native.pyi; core checks them), so a
    # subclass may define its own __init__ and call super().__init__(**options).
    __init__ = _native.SecretsManager.configure

    def __new__(cls, *args: "Any", **kwargs: "Any") -> "SecretsManager":
        manager = super().__new__(cls, *args, **kwargs)
        # Every live manager, for the snapshot hooks (a weak set: it keeps none alive);
        # only kept where the hooks are registered.
        if _LIVE is not None:
            _LIVE.add(manager)
        return manager  # type: ignore[return-value]  # the native __new__ makes a cls

    async def asecrets(self) -> "Dict[str, Any]":
        """:attr:`secrets` for asyncio: the event loop keeps running while it fetches."""
        if not _NATIVE_ASYNC:
            secrets: Dict[str, Any] = await _in_executor(lambda: self.secrets)
            return secrets
        hit = self._hit()
        if hit is None and self._mocked():
            mocked: Dict[str, Any] = await _in_executor(lambda: self.secrets)
            return mocked
        pending = hit or await _native_fetch(self, False)
        return self._secrets_from(pending)

    async def aget(self, *path: str, default: "Any" = _MISSING) -> "Any":
        """:meth:`get` for asyncio."""
        kwargs = {} if default is _MISSING else {"default": default}
        if not _NATIVE_ASYNC:
            return await _in_executor(lambda: self.get(*path, **kwargs))
        hit = self._hit()
        if hit is None and self._mocked():
            return await _in_executor(lambda: self.get(*path, **kwargs))
        pending = hit or await _native_fetch(self, False)
        return self._get_from(pending, *path, **kwargs)

    async def asecret_binary(self) -> bytes:
        """:attr:`secret_binary` for asyncio."""
        if not _NATIVE_ASYNC:
            data: bytes = await _in_executor(lambda: self.secret_binary)
            return data
        hit = self._hit()
        if hit is None and self._mocked():
            mocked: bytes = await _in_executor(lambda: self.secret_binary)
            return mocked
        pending = hit or await _native_fetch(self, False)
        return self._binary_from(pending)

    async def arefresh(self) -> None:
        """:meth:`refresh` for asyncio."""
        if not _NATIVE_ASYNC or self._mocked():
            await _in_executor(self.refresh)
            return
        pending = await _native_fetch(self, True)
        self._refreshed(pending)


# Every live SecretsManager, where SnapStart's hooks are registered (they reach each one; weak,
# so none is kept alive); None elsewhere, so `weakref` (over a millisecond of a cold start,
# with what it imports) is only imported on SnapStart. Set before SECRETS_MANAGER is made.
_LIVE: "Optional[weakref.WeakSet[_native.SecretsManager]]" = None


def _before_snapshot() -> None:
    """SnapStart's before-snapshot hook: :meth:`SecretsManager.before_snapshot` on every live manager."""
    for manager in list(_LIVE or ()):
        manager.before_snapshot()


def _after_restore() -> None:
    """SnapStart's after-restore hook: :meth:`SecretsManager.after_restore` on every live manager."""
    for manager in list(_LIVE or ()):
        manager.after_restore()


def _register_snapshot_hooks() -> None:
    """On Lambda SnapStart (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, the runtime's
    ``snapshot_restore_py`` importable), register the hooks above with it and start keeping
    :data:`_LIVE`. Anywhere else nothing is imported and nothing happens."""
    global _LIVE
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return
    try:
        import snapshot_restore_py  # type: ignore[import-not-found]
    except ImportError:
        return
    import weakref

    _LIVE = weakref.WeakSet()
    snapshot_restore_py.register_before_snapshot(_before_snapshot)
    snapshot_restore_py.register_after_restore(_after_restore)


_register_snapshot_hooks()

SECRETS_MANAGER: SecretsManager = SecretsManager()
"""The process-wide manager of the Starfleet secret, located as the core resolves it."""

# A daemon thread still fetching when the interpreter shuts down must not re-enter it.
atexit.register(_native._at_exit)
