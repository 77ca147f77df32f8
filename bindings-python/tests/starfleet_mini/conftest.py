"""Puts the miniature Starfleet (``starfleet/``) on the path, as a Starfleet checkout is."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
