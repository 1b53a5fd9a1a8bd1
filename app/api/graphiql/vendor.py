"""Fetch GraphiQL's browser files from the npm registry into `assets/`, checking every
tarball against the integrity pinned in `pins.json` before anything is written.

    python -m app.api.graphiql.vendor [--registry URL] [--check]

The registry is `--registry`, else the one npm is configured with (`npm config get
registry`). Run it after changing `pins.json` and commit the result; `--check` only
compares the committed files with the registry's and writes nothing.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PINS = HERE / "pins.json"
ASSETS = HERE / "assets"
TIMEOUT_SECONDS = 60


class VendorError(Exception):
    """Why the assets could not be vendored; nothing was written."""


@dataclass(frozen=True)
class Pin:
    """One npm package at an exact version, and which of its files to keep under which name."""

    name: str
    version: str
    integrity: str
    files: dict[str, str]


def load_pins(path: Path = PINS) -> list[Pin]:
    return [Pin(**package) for package in json.loads(path.read_text())["packages"]]


def integrity_of(data: bytes) -> str:
    """npm's `dist.integrity` form: Subresource Integrity with SHA-512."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def default_registry() -> str:
    """The registry npm itself would use (its config files and `npm_config_registry`)."""
    try:
        found = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise VendorError("npm is not available to name its registry: pass --registry URL") from None
    return found.stdout.strip()


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            body: bytes = response.read()
            return body
    except OSError as error:
        raise VendorError(f"cannot fetch {url}: {error}") from None


def fetch_package(pin: Pin, registry: str) -> dict[str, bytes]:
    """The pinned files of one package (by their names under `assets/`), from a tarball whose
    SHA-512 matches the pin: a registry serving anything else is refused."""
    label = f"{pin.name}@{pin.version}"
    metadata_url = f"{registry.rstrip('/')}/{urllib.parse.quote(pin.name, safe='@')}/{pin.version}"
    try:
        dist: dict[str, Any] = json.loads(_get(metadata_url))["dist"]
        tarball_url, published = str(dist["tarball"]), dist.get("integrity")
    except (ValueError, KeyError, TypeError):
        raise VendorError(f"{label}: {metadata_url} is not npm package metadata") from None
    if published != pin.integrity:
        raise VendorError(f"{label}: the registry publishes integrity {published}, pins.json says {pin.integrity}")
    tarball = _get(tarball_url)
    if (actual := integrity_of(tarball)) != pin.integrity:
        raise VendorError(f"{label}: tarball integrity {actual} does not match the pinned {pin.integrity}")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for source, name in pin.files.items():
            try:
                member = archive.extractfile(f"package/{source}")
            except KeyError:
                member = None
            if member is None:
                raise VendorError(f"{label}: the tarball has no file package/{source}")
            files[name] = member.read()
    return files


def fetch_all(pins: Sequence[Pin], registry: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for pin in pins:
        files.update(fetch_package(pin, registry))
    return files


def write_assets(files: dict[str, bytes], destination: Path) -> None:
    """Replace `destination` with exactly `files`, all at once (a failure leaves it as it was)."""
    staging = Path(tempfile.mkdtemp(prefix=".assets-", dir=destination.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
            (staging / name).chmod(0o644)
        staging.chmod(0o755)
        if destination.exists():
            retired = destination.with_name(f".{destination.name}-old")
            shutil.rmtree(retired, ignore_errors=True)
            destination.rename(retired)
            staging.rename(destination)
            shutil.rmtree(retired)
        else:
            staging.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def vendor(pins: Sequence[Pin], registry: str, destination: Path) -> dict[str, bytes]:
    """Fetch and check every package first, then write: a bad tarball changes nothing."""
    files = fetch_all(pins, registry)
    write_assets(files, destination)
    return files


def differences(files: dict[str, bytes], destination: Path) -> list[str]:
    """Names whose committed copy differs from `files` (missing, changed or extra)."""
    present = {path.name for path in destination.iterdir()} if destination.is_dir() else set()
    changed = [name for name, data in files.items() if name not in present or (destination / name).read_bytes() != data]
    return sorted(changed + [name for name in present - files.keys()])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.api.graphiql.vendor", description="Vendor GraphiQL's files.")
    parser.add_argument("--registry", help="npm registry URL (default: npm's configured registry)")
    parser.add_argument("--check", action="store_true", help="compare assets/ with the registry, write nothing")
    args = parser.parse_args(argv)
    try:
        registry = args.registry or default_registry()
        if args.check:
            stale = differences(fetch_all(load_pins(), registry), ASSETS)
            print(f"assets differ from pins.json: {', '.join(stale)}" if stale else "assets match pins.json")
            return 1 if stale else 0
        files = vendor(load_pins(), registry, ASSETS)
    except VendorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, data in sorted(files.items()):
        print(f"{len(data):>9} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
