"""examples/typescript as a TypeScript developer uses it: installed from its lockfile,
typed by graphql-codegen from schema.graphql, checked by tsc (strict), and its Apollo
Client flow run with Node against the app on a real socket."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.api.helpers import SESSIONS, StartApi
from tests.browser import serving

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "typescript"
INSTALL = 600.0  # seconds: a bound on a hang of npm, not a speed test

pytestmark = pytest.mark.skipif(
    (shutil.which("node") is None or shutil.which("npm") is None) and not os.environ.get("CI"),
    reason="needs Node.js and npm (apt-get install nodejs npm); in CI it must run",
)


def npm(*arguments: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["npm", *arguments], cwd=EXAMPLE, capture_output=True, text=True, timeout=INSTALL, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, f"npm {' '.join(arguments)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def built() -> Path:
    """The example installed (`npm ci`, the committed lockfile), generated and compiled."""
    npm("ci", "--no-audit", "--no-fund")
    shutil.rmtree(EXAMPLE / "src" / "gql", ignore_errors=True)
    shutil.rmtree(EXAMPLE / "dist", ignore_errors=True)
    npm("run", "codegen")
    npm("run", "build")
    return EXAMPLE / "dist" / "flow.js"


def test_codegen_types_datetime_as_a_string_and_the_codes_as_unions(built: Path) -> None:
    generated = (EXAMPLE / "src" / "gql" / "graphql.ts").read_text()

    assert "DateTime: { input: string; output: string; }" in generated
    assert "export type ErrorCode =" in generated and "| 'USERNAME_TAKEN'" in generated
    assert "export type RequestErrorCode =" in generated and "| 'UNAUTHENTICATED'" in generated
    assert "/** Another account has this username" in generated  # the schema's descriptions, as doc comments


def test_the_example_type_checks_strictly_and_a_type_error_fails_it(built: Path, tmp_path: Path) -> None:
    npm("run", "typecheck")
    wrong = EXAMPLE / "src" / "wrong.ts"
    wrong.write_text(
        'import type { AuthSuccess } from "./gql/graphql.js";\n'
        "export const when = (signed: AuthSuccess): Date => signed.expiresAt;\n"  # a string, not a Date
    )
    try:
        result = subprocess.run(
            ["npm", "run", "typecheck"], cwd=EXAMPLE, capture_output=True, text=True, timeout=INSTALL
        )
    finally:
        wrong.unlink()

    assert result.returncode != 0
    assert "Type 'string' is not assignable to type 'Date'" in result.stdout, result.stdout


async def test_the_apollo_client_flow_runs_against_the_server(built: Path, start_api: StartApi) -> None:
    async with start_api() as api, serving(api.app) as origin:
        node = await asyncio.create_subprocess_exec(
            "node", str(built), origin, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        output, errors = await asyncio.wait_for(node.communicate(), timeout=120)
        sessions = await api.count(SESSIONS)

    assert node.returncode == 0, errors.decode()
    seen = json.loads(output)
    assert seen["username"].startswith("ada_") and seen["sameUser"] is True
    assert seen["expiresInDays"] == 7
    assert seen["sessions"] == 1 == sessions
    assert seen["currentCreatedAt"].endswith("Z")  # parsed from the DateTime string by `new Date`
    assert seen["refused"] == "USERNAME_TAKEN"  # a UserError, handled as data
    assert seen["unauthenticated"] == "UNAUTHENTICATED"  # a request-level error, from extensions.code
