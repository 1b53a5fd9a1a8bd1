"""concept Switches

purpose: let whoever deploys the server turn parts of its API off, without changing code.
state: the switches that are off (from the settings: fixed while the server runs).

A switch is off for the whole deployment; the syncs of the part it turns off ask it
(a guard at the request gate, typically) and refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, TypedDict

USER_DIRECTORY: Final = "user-directory"
"""Listing every account (`allUsers`, REST `_getAllUsers`): USER_DIRECTORY."""


class SwitchRow(TypedDict):
    switch: str


class Switches:
    """The switches that are off."""

    def __init__(self, off: Iterable[str] = ()) -> None:
        self._off = frozenset(off)

    async def _isOff(self, switch: str) -> list[SwitchRow]:
        """The switch, if it is off; [] if it is on."""
        return [{"switch": switch}] if switch in self._off else []
