"""Starfleet's configuration loader, in miniature: a directory of YAML files merged at the top
level, loaded lazily into a dict that the application (and its tests) read and change live."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

CONFIGURATION_DIRS = Path(__file__).resolve().parents[2] / "configuration"


class StarfleetConfigurationLoader:
    """Loads ``*.yaml`` of ``configuration_path`` on first use; tests switch the directory."""

    def __init__(self) -> None:
        self.configuration_path = Path(os.environ.get("STARFLEET_CONFIGURATION_DIR", CONFIGURATION_DIRS / "base"))
        self._app_config: Optional[Dict[str, Any]] = None

    def load_base_configuration(self) -> None:
        merged: Dict[str, Any] = {}
        for file in sorted(self.configuration_path.glob("*.yaml")):
            merged.update(yaml.safe_load(file.read_text()) or {})
        self._app_config = merged

    @property
    def config(self) -> Dict[str, Any]:
        if not self._app_config:
            self.load_base_configuration()
        assert self._app_config is not None
        return self._app_config

    def switch_to(self, directory: Path) -> None:
        """Load from another directory from the next access on (what Starfleet's tests do)."""
        self.configuration_path = directory
        self._app_config = None


STARFLEET_CONFIGURATION = StarfleetConfigurationLoader()
