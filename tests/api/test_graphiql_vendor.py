"""The vendor script against a local fake npm registry: it writes the pinned files, and
refuses a tarball that is not the pinned one without touching what is committed."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.api.graphiql.vendor import Pin, VendorError, integrity_of, vendor


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Registry:
    """npm's two URLs for a package: its version's metadata, and the tarball it names."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.paths: dict[str, bytes] = {}

    def publish(self, name: str, version: str, tgz: bytes, *, integrity: str | None = None) -> None:
        tarball_path = f"/{name}/-/{name.split('/')[-1]}-{version}.tgz"
        dist = {"tarball": self.url + tarball_path, "integrity": integrity or integrity_of(tgz)}
        self.paths[f"/{name}/{version}"] = json.dumps({"name": name, "version": version, "dist": dist}).encode()
        self.paths[tarball_path] = tgz


@pytest.fixture
def registry() -> Iterator[Registry]:
    paths: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = paths.get(self.path.replace("%2F", "/"))
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake = Registry(f"http://127.0.0.1:{server.server_address[1]}")
    fake.paths = paths
    yield fake
    server.shutdown()
    server.server_close()


GOOD = tarball({"dist/widget.js": b"window.widget = 1;", "dist/widget.css": b".w{}", "README.md": b"hi"})
PIN = Pin("@scope/widget", "1.0.0", integrity_of(GOOD), {"dist/widget.js": "widget.js", "dist/widget.css": "w.css"})


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """A committed assets folder, with a file from an earlier pin."""
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / "old.js").write_bytes(b"old")
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.parent.rglob("*") if path.is_file()}


def test_the_pinned_files_replace_the_assets(registry: Registry, assets: Path) -> None:
    registry.publish(PIN.name, PIN.version, GOOD)

    vendor([PIN], registry.url, assets)

    assert contents(assets) == {"widget.js": b"window.widget = 1;", "w.css": b".w{}"}


def test_a_tarball_that_is_not_the_pinned_one_is_refused_and_changes_nothing(registry: Registry, assets: Path) -> None:
    tampered = tarball({"dist/widget.js": b"steal(document.cookie);", "dist/widget.css": b".w{}"})
    registry.publish(PIN.name, PIN.version, tampered, integrity=PIN.integrity)

    with pytest.raises(VendorError, match=r"@scope/widget@1\.0\.0: tarball integrity sha512-\S+ does not match"):
        vendor([PIN], registry.url, assets)

    assert contents(assets) == {"old.js": b"old"}


def test_a_registry_publishing_another_integrity_is_refused_and_changes_nothing(
    registry: Registry, assets: Path
) -> None:
    other = tarball({"dist/widget.js": b"other", "dist/widget.css": b""})
    registry.publish(PIN.name, PIN.version, other)

    with pytest.raises(VendorError, match="the registry publishes integrity"):
        vendor([PIN], registry.url, assets)

    assert contents(assets) == {"old.js": b"old"}


def test_one_bad_package_among_good_ones_changes_nothing(registry: Registry, assets: Path) -> None:
    registry.publish(PIN.name, PIN.version, GOOD)
    missing = Pin("absent", "2.0.0", PIN.integrity, {"x.js": "x.js"})

    with pytest.raises(VendorError, match="cannot fetch"):
        vendor([PIN, missing], registry.url, assets)

    assert contents(assets) == {"old.js": b"old"}
