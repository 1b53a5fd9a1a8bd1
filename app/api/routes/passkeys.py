"""Passkeys: a signed-in user adds passkeys (typing their password again), lists and
removes them; anyone signs in with one, naming their username or not.

Each ceremony takes two requests: `begin` answers the WebAuthn options (for the
browser's `PublicKeyCredential.parse*OptionsFromJSON`) and a ticket; `finish` takes the
ticket back with the browser's answer (`credential.toJSON()`, as a JSON string).
"""

from __future__ import annotations

from typing import TypedDict

from app.api.routes.access import SignedIn
from app.concepts.outputs import (
    INVALID_CREDENTIALS,
    INVALID_PASSKEY,
    INVALID_TOKEN,
    PASSKEY_NOT_FOUND,
    RATE_LIMITED,
)
from app.concepts.passkeys import MAX_CREDENTIAL_JSON
from app.concepts.passkeys.concept import NAME_LENGTH, PasskeyRow
from app.protocol.routes import ID, SESSION, Input, Route


class CeremonyStarted(TypedDict):
    optionsJson: str
    ticket: str


class PasskeyList(TypedDict):
    results: list[PasskeyRow]


class RemovedPasskey(TypedDict):
    id: str


TICKET = Input(
    "ticket",
    secret=True,
    description="The ticket `begin` answered with: single use, for five minutes.",
)
CREDENTIAL_JSON = Input(
    "credentialJson",
    max_length=MAX_CREDENTIAL_JSON,
    # Not a secret, but kept out of logs, traces and the request journal all the same:
    # no record keeps up to 16 KiB of a client's text.
    secret=True,
    description="The browser's answer: `JSON.stringify(credential.toJSON())`.",
)

LIST_PASSKEYS = Route(
    "/Passkeys/_getPasskeys",
    SESSION,
    output=PasskeyList,
    graphql="Query.passkeys",
    name="ListPasskeys",
    description="The session user's passkeys, newest first (at most 100).",
)
BEGIN_PASSKEY_REGISTRATION = Route(
    "/Passkeys/beginRegistration",
    Input("password", secret=True, description="The session user's password, checked again."),
    SESSION,
    output=CeremonyStarted,
    errors=[INVALID_CREDENTIALS, RATE_LIMITED],
    graphql="Mutation.beginPasskeyRegistration",
    name="BeginPasskeyRegistration",
    description="Start adding a passkey: the options for `navigator.credentials.create()`, and a ticket.",
)
FINISH_PASSKEY_REGISTRATION = Route(
    "/Passkeys/finishRegistration",
    TICKET,
    CREDENTIAL_JSON,
    Input("name", optional=True, max_length=NAME_LENGTH, description="What to call it (default: Passkey)."),
    SESSION,
    output=PasskeyRow,
    errors=[INVALID_TOKEN, INVALID_PASSKEY],
    graphql="Mutation.finishPasskeyRegistration",
    name="FinishPasskeyRegistration",
    description="Add the passkey the browser made with the options of `beginPasskeyRegistration`.",
)
REMOVE_PASSKEY = Route(
    "/Passkeys/remove",
    Input("id", ID, description="The passkey's id, as `passkeys` lists it."),
    SESSION,
    output=RemovedPasskey,
    errors=[PASSKEY_NOT_FOUND],
    graphql="Mutation.removePasskey",
    name="RemovePasskey",
    description="Remove one of the session user's passkeys.",
)
BEGIN_PASSKEY_LOGIN = Route(
    "/Passkeys/beginLogin",
    Input("username", optional=True, description="Whose passkey it must be; none: anyone's (discoverable)."),
    output=CeremonyStarted,
    graphql="Mutation.beginPasskeyLogin",
    name="BeginPasskeyLogin",
    description="Start signing in with a passkey: the options for `navigator.credentials.get()`, and a ticket.",
)
FINISH_PASSKEY_LOGIN = Route(
    "/Passkeys/finishLogin",
    TICKET,
    CREDENTIAL_JSON,
    output=SignedIn,
    errors=[INVALID_TOKEN, INVALID_CREDENTIALS, RATE_LIMITED],
    graphql="Mutation.finishPasskeyLogin",
    name="FinishPasskeyLogin",
    description="Sign in with the passkey the browser chose for the options of `beginPasskeyLogin`.",
)
