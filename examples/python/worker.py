"""A Starfleet-style worker in Python: the one-import change from Starfleet's own
``starfleet.utils.secrets.SECRETS_MANAGER`` to ``starfleet_secrets.SECRETS_MANAGER``.

The secret is located the way every front door does it: arguments, then
``STARFLEET_SECRET_ID``/``STARFLEET_SECRET_REGION``, then the Starfleet configuration named by
``STARFLEET_CONFIG``. The worker reads ``STARFLEET.SlackToken`` (or the key path given as the
first argument) and confirms it without printing it.

``STARFLEET_LOG=debug`` shows the library's log records (they never hold values).
Exit status: 0 on success, 1 with ``CODE: message`` on stderr on failure.

    pip install ./bindings-python
    STARFLEET_CONFIG=examples/starfleet-config python examples/python/worker.py
"""

from __future__ import annotations

import logging
import os
import sys

from starfleet_secrets import SECRETS_MANAGER, StarfleetSecretsError


def main(argv: list[str]) -> int:
    level = os.environ.get("STARFLEET_LOG")
    if level:
        logging.basicConfig(level=level.upper(), format="[%(levelname)s] %(name)s: %(message)s")
    path = argv[1] if len(argv) > 1 else "STARFLEET.SlackToken"
    try:
        if path == "STARFLEET.SlackToken":
            # Exactly what a Starfleet worker ship writes today.
            token = SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"]
        else:
            token = SECRETS_MANAGER.get(path)
    except StarfleetSecretsError as e:
        print(f"python worker: {e.code}: {e}", file=sys.stderr)
        return 1
    if not isinstance(token, str):
        print(f"python worker: {path} is not a string", file=sys.stderr)
        return 1
    stats = SECRETS_MANAGER.stats()
    fetches = stats["fetches"]
    print(
        f"python worker: read {path} ({len(token)} characters, value redacted; "
        f"version {stats['version_id'] or '?'}, {fetches} fetch{'es' if fetches != 1 else ''})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
