"""Serve a given secret in place of AWS in a worker's unit tests.

Context manager::

    from starfleet_secrets.testing import override_secrets

    def test_posts_to_slack():
        with override_secrets({"STARFLEET": {"SlackToken": "xoxb-test"}}):
            assert my_worker.run() == ...

pytest fixture (registered automatically through the ``pytest11`` entry point)::

    def test_posts_to_slack(fake_secrets):
        fake_secrets({"STARFLEET": {"SlackToken": "xoxb-test"}})
        assert my_worker.run() == ...

While the override is active the manager serves the given document (converted and validated
by the same rules as a fetched one: a JSON object, or ``bytes`` for a binary secret) without
resolving any location and without any network call. ``refresh()`` and ``load_secrets()`` serve
it too. Overrides nest; leaving the block (or the end of the test, for the fixture) restores
exactly what was there before, including the cache. Blocks must end innermost first (as
``with`` blocks do): ending one while an override made inside it is still in force raises
``SecretsInvalidArgumentError`` and changes nothing. The core's override stack does the work
(the same one behind Node's ``pin``/``unpin``); ``repr()`` shows ``testing_overrides=N`` and
``stats()["testing_overrides"]`` counts them.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, Callable, Iterator, Mapping, Optional, Union

from . import SECRETS_MANAGER, SecretsManager

__all__ = ["override_secrets", "fake_secrets"]

Secret = Union[Mapping[str, Any], bytes, bytearray, memoryview]


@contextlib.contextmanager
def override_secrets(secrets: Secret, manager: Optional[SecretsManager] = None) -> Iterator[SecretsManager]:
    """Serve ``secrets`` from ``manager`` (default: ``SECRETS_MANAGER``) inside the block.

    ``secrets`` is the document (a mapping that ``json.dumps`` accepts) or, for a binary
    secret, bytes. Yields the manager.
    """
    target = SECRETS_MANAGER if manager is None else manager
    if isinstance(secrets, (bytes, bytearray, memoryview)):
        token = target._pin_binary(bytes(secrets))
    else:
        token = target._pin_json(json.dumps(secrets))
    try:
        yield target
    finally:
        target._unpin(token)


try:
    import pytest
except ImportError:  # pragma: no cover - the context manager works without pytest
    pass
else:

    @pytest.fixture
    def fake_secrets() -> Iterator[Callable[..., SecretsManager]]:
        """``fake_secrets(secrets, manager=None)`` serves ``secrets`` until the test ends."""
        with contextlib.ExitStack() as stack:

            def serve(secrets: Secret, manager: Optional[SecretsManager] = None) -> SecretsManager:
                return stack.enter_context(override_secrets(secrets, manager))

            yield serve
