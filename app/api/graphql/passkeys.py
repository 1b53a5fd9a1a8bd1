"""Passkeys: what `passkeys`, the two ceremonies and `removePasskey` answer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.api.fields import presenter
from app.api.graphql.access import AuthSuccess
from app.api.routes.access import SignedIn
from app.api.routes.passkeys import (
    BEGIN_PASSKEY_LOGIN,
    BEGIN_PASSKEY_REGISTRATION,
    FINISH_PASSKEY_LOGIN,
    FINISH_PASSKEY_REGISTRATION,
    LIST_PASSKEYS,
    REMOVE_PASSKEY,
    CeremonyStarted,
    PasskeyList,
    RemovedPasskey,
)
from app.api.types import User, from_row
from app.concepts.passkeys.concept import PasskeyRow


@strawberry.type
class PasskeyChallenge:
    options_json: str = strawberry.field(
        description="PublicKeyCredentialCreationOptionsJSON or ...RequestOptionsJSON (WebAuthn Level 3), "
        "as a JSON document."
    )
    ticket: str = strawberry.field(description="Pass back with the credential within five minutes; single use.")


@strawberry.type
class Passkey:
    id: strawberry.ID = strawberry.field(description="A public handle for the passkey (not its credential id).")
    name: str
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(description="The last sign-in with it; null if none yet.")
    backed_up: bool = strawberry.field(
        description="Synced to the user's other devices by its provider (a synced passkey), as it last said."
    )


@strawberry.type
class PasskeyAdded:
    passkey: Passkey


@strawberry.type
class PasskeyRemoved:
    id: strawberry.ID


def _challenge(out: CeremonyStarted) -> PasskeyChallenge:
    return PasskeyChallenge(options_json=out["optionsJson"], ticket=out["ticket"])


@presenter(LIST_PASSKEYS)
def passkeys(out: PasskeyList) -> list[Passkey]:
    return [from_row(Passkey, row) for row in out["results"]]


@presenter(BEGIN_PASSKEY_REGISTRATION, result="BeginPasskeyRegistrationResult")
def registration_started(out: CeremonyStarted) -> PasskeyChallenge:
    return _challenge(out)


@presenter(FINISH_PASSKEY_REGISTRATION, result="AddPasskeyResult")
def passkey_added(out: PasskeyRow) -> PasskeyAdded:
    return PasskeyAdded(passkey=from_row(Passkey, out))


@presenter(REMOVE_PASSKEY, result="RemovePasskeyResult")
def passkey_removed(out: RemovedPasskey) -> PasskeyRemoved:
    return PasskeyRemoved(id=strawberry.ID(out["id"]))


@presenter(BEGIN_PASSKEY_LOGIN)
def login_started(out: CeremonyStarted) -> PasskeyChallenge:
    return _challenge(out)


@presenter(FINISH_PASSKEY_LOGIN, result="AuthResult")
def signed_in_with_a_passkey(out: SignedIn) -> AuthSuccess:
    user = User(id=strawberry.ID(out["user"]), username=out["username"])
    return AuthSuccess(user=user, session=out["session"], expires_at=out["expiresAt"])
