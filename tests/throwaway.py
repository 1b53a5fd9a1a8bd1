"""Throwaway modules and packages for tests of discovery and start-up checks: written
into a temporary folder searched after a real package's own, under names no real
module has (`throwaway_<random>`), and forgotten after the test, so they can never
stand in for, or leave anything behind for, a real feature."""

from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path

import pytest


class Throwaway:
    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.monkeypatch = monkeypatch
        self.names: list[str] = []

    def _searched(self, package: str) -> Path:
        parent = importlib.import_module(package)
        folder = self.folder / package.replace(".", "_")
        if str(folder) not in parent.__path__:
            folder.mkdir(exist_ok=True)
            self.monkeypatch.setattr(parent, "__path__", [*parent.__path__, str(folder)])
        return folder

    def module(self, package: str, source: str) -> str:
        """Add a module with `source` to `package`; its full name."""
        name = f"throwaway_{uuid.uuid4().hex[:12]}"
        (self._searched(package) / f"{name}.py").write_text(source)
        self.names.append(f"{package}.{name}")
        return f"{package}.{name}"

    def package(self, package: str, files: dict[str, str]) -> str:
        """Add a subpackage of `package` made of `files` ({"__init__.py": source, ...}); its full name."""
        name = f"throwaway_{uuid.uuid4().hex[:12]}"
        folder = self._searched(package) / name
        folder.mkdir()
        for file, source in files.items():
            (folder / file).write_text(source)
        self.names.append(f"{package}.{name}")
        return f"{package}.{name}"

    def forget(self) -> None:
        for name in list(sys.modules):
            if any(name == added or name.startswith(f"{added}.") for added in self.names):
                del sys.modules[name]
