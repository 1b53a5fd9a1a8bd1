"""LOG_FORMAT=json as a log pipeline sees it: `python -m app`'s every output line is a
JSON object, the access log's included, with the flow id where there is one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from app.database import free_port
from tests.launched import launcher_env, wait_until_healthy

from .helpers import ME, REGISTER

PASSWORD = "correct horse logged"


@pytest.mark.launcher
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_every_line_is_a_json_object_and_a_flows_lines_carry_its_id(tmp_path: Path, level: str) -> None:
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", tmp_path / "app.log"
    env = {**launcher_env(port, tmp_path / "data"), "LOG_FORMAT": "json", "LOG_LEVEL": level, "DEBUG_FLOWS": "true"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    try:
        wait_until_healthy(process, url, log)
        variables = {"username": "ada", "password": PASSWORD}
        body = httpx.post(f"{url}/graphql", json={"query": REGISTER, "variables": variables}, timeout=10.0).json()
        token = body["data"]["register"]["session"]
        refused = httpx.post(f"{url}/api/login", json={"username": "ada", "password": "wrong " + PASSWORD}, timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # fails on any line that is not JSON

    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    access = [line for line in lines if line["logger"] == "app.access" and line["path"] != "/healthz"]
    assert [(line["method"], line["path"], line["status"]) for line in access] == [
        ("POST", "/graphql", 200),
        ("POST", "/api/login", refused.status_code),
    ]
    assert access[0]["operation"] == "Register"
    assert access[0]["flow"] == body["extensions"]["flow"]["id"]
    assert access[1]["flow"] == refused.headers["X-Flow-Id"]
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # the server's own lines too
    if level == "DEBUG":  # the engine's trace: one line per action, in its flow
        engine = [line for line in lines if line["logger"] == "app.engine"]
        assert {line["flow"] for line in engine} == {access[0]["flow"], access[1]["flow"]}
    assert PASSWORD not in text and token not in text
    assert "$argon2" not in text  # not even the hash (pymongo logs whole commands at DEBUG)


@pytest.mark.launcher
def test_each_line_says_which_process_wrote_it(tmp_path: Path) -> None:
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", tmp_path / "app.log"
    env = {**launcher_env(port, tmp_path / "data"), "LOG_FORMAT": "json", "WORKERS": "2"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    try:
        wait_until_healthy(process, url, log)
        workers = {child.pid for child in psutil.Process(process.pid).children() if "secantus" not in child.name()}
        for _ in range(12):  # a new connection each: the workers share them out
            httpx.post(f"{url}/graphql", json={"query": ME}, timeout=10.0).raise_for_status()
    finally:
        process.terminate()
        process.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines()]

    assert all(isinstance(line.get("pid"), int) for line in lines), lines
    launched = [line for line in lines if line["message"].startswith("embedded database at")]
    assert [line["pid"] for line in launched] == [process.pid]
    access = [line for line in lines if line["logger"] == "app.access" and line["path"] == "/graphql"]
    assert len(access) == 12
    assert {line["pid"] for line in access} <= workers
