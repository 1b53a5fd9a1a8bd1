"""Nothing acknowledged is lost: `python -m app` with its embedded database, the
database killed (SIGKILL) the moment the last answer arrives. Once the supervisor has
restarted it, every registration answered before the kill is there (its session
works, its password logs in), every logout and password change answered before it
holds. Durable writes make this deterministic: the writes were on disk before they
were acknowledged, however soon the kill follows. (`python -m benchmarks.crash` does
this at random moments, many times, and shows what is lost without durable writes.)"""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.api.helpers import AUTHENTICATE, CHANGE_OWN_PASSWORD
from tests.launched import AppProcess, database_process, running_apps

pytestmark = pytest.mark.launcher

USERS = 8
RECOVERY = 60.0  # seconds the supervisor gets to restart the database (a hang guard, not a timing assertion)


def login(app: AppProcess, username: str, password: str) -> str:
    result = app.gql(AUTHENTICATE, {"username": username, "password": password})["data"]["authenticate"]
    return str(result["__typename"])


def wait_until_ready(app: AppProcess) -> None:
    deadline = time.monotonic() + RECOVERY
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{app.url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the database did not come back within {RECOVERY} s:\n{app.output()}")


def test_writes_answered_just_before_the_database_is_killed_survive_it(tmp_path: object) -> None:
    with running_apps(tmp_path, {"THROTTLE_ADDRESS_REGISTRATIONS": "1000"}) as (app,):  # type: ignore[arg-type]
        daemon = database_process(app)
        tokens = {f"user{n}": app.register(f"user{n}")[1] for n in range(USERS)}
        logged_out = [f"user{n}" for n in range(0, USERS, 2)]
        for name in logged_out:
            assert "errors" not in app.gql("mutation { logout { __typename } }", token=tokens[name])
        changed = app.gql(CHANGE_OWN_PASSWORD, {"old": "correct horse", "new": "a new password"}, tokens["user1"])
        assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess", changed
        daemon.send_signal(signal.SIGKILL)  # right after the last answer

        daemon.wait(timeout=10)
        wait_until_ready(app)

        alive = {name: app.me(token) is not None for name, token in tokens.items()}
        assert alive == {name: name not in logged_out for name in tokens}
        assert login(app, "user1", "correct horse") == "UserError"
        assert login(app, "user1", "a new password") == "AuthSuccess"
        assert [login(app, name, "correct horse") for name in tokens if name != "user1"] == ["AuthSuccess"] * (
            USERS - 1
        )
