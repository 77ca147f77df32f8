"""`starfleet-secrets`, the operator CLI, as the package's console script.

The tool itself is the Rust CLI (`cli/` in the repository) linked into the extension, so
`pip install starfleet-secrets` and `cargo install` give operators the same commands, output
and exit codes. See `starfleet-secrets --help`.
"""

from __future__ import annotations

import signal
import sys
from typing import List, Optional

from . import _native


def main(argv: Optional[List[str]] = None) -> int:
    """Run the CLI with `argv` (default: the process arguments); return its exit code."""
    args = sys.argv if argv is None else ["starfleet-secrets", *argv]
    # The CLI writes to the process's file descriptors directly; anything Python buffered
    # must come first.
    sys.stdout.flush()
    sys.stderr.flush()
    # Ctrl-C ends the tool at once, as it does the native binary (Python's handler would only
    # run once the CLI returned).
    if argv is None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    return _native.cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
