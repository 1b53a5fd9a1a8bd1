"""Passkeys: a signed-in user adds passkeys, lists and removes them; anyone signs in
with one, naming a username or not.

A ceremony is two requests. `begin` answers Passkeys' options and a ticket: a
OneTimeTokens token (five minutes, single use) whose data keeps the options' challenge.
`finish` redeems the ticket and has Passkeys verify the browser's answer against that
challenge, so an answer is taken once, within the ceremony's time.

- Adding one needs the password again (a stolen session must not add a way in): it is
  counted against the user before it is checked, as changePassword's old password is.
  Finishing needs the session of the user the ticket was issued to: another user's
  ticket is INVALID_TOKEN and stays usable by its owner.
- Signing in: the options never list anyone's passkeys (every passkey here is
  discoverable), so they are the same for a username with passkeys, one without and one
  no one has; the ticket names whose passkey must answer (anyone's without a username,
  no one's for a username no one has). Each answer counts as a login attempt for the
  username (if one was given) and the client address before it is checked; a success
  takes it back, as a password login's does. It signs in like any sign-in (the session
  gate, the session, the check that the user still exists), as a passkey: both factors,
  so a second factor never holds it.
- Deleting the account removes its passkeys, once the deletion is complete.
"""

from collections.abc import Callable

from app.api.routes.account import DELETE_ACCOUNT
from app.api.routes.passkeys import (
    BEGIN_PASSKEY_LOGIN,
    BEGIN_PASSKEY_REGISTRATION,
    FINISH_PASSKEY_LOGIN,
    FINISH_PASSKEY_REGISTRATION,
    LIST_PASSKEYS,
    REMOVE_PASSKEY,
)
from app.concepts import OneTimeTokens, Passkeys, Requesting, Sessioning, Throttling, UserAuthentication
from app.concepts.one_time_tokens import PASSKEY_LOGIN, PASSKEY_REGISTRATION
from app.concepts.outputs import INVALID_TOKEN, error
from app.engine import Frame, Sync, Var, sync
from app.protocol.gates import BY_PASSKEY

from .password_again import password_again
from .shapes import error_response, keeping, kept, unauthenticated
from .signing_in import signs_in
from .throttling import rate_limited

NOBODY = ""
"""Whose passkey answers a sign-in for a username no one has: no one's, so every answer
fails as it would for a user without passkeys."""

NOT_YOUR_TICKET = error(INVALID_TOKEN, "This ticket is not valid: it is unknown, used, expired or another user's.")


def not_issued_to(user: Var, subject: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """the ticket is not a live one issued to the session's user"""
        return bool(frame[subject] != frame[user])

    return check


# -- Listing --------------------------------------------------------------------------------


@sync
def ListPasskeysRequest(request, session, user, results):
    return Sync(
        when=[(Requesting.request, {"path": LIST_PASSKEYS.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            Passkeys._getPasskeys, {"user": user}, into=results
        ),
        then=[(Requesting.respond, {"request": request, "results": results})],
    )


ListPasskeysUnauthenticated = unauthenticated(LIST_PASSKEYS)


# -- Adding one: the password, then the options and a ticket ------------------------------------


BeginPasskeyRegistrationPassword = password_again(BEGIN_PASSKEY_REGISTRATION)


@sync
def BeginPasskeyRegistrationOptions(request, user, username):
    return Sync(
        when=[
            (Requesting.request, {"path": BEGIN_PASSKEY_REGISTRATION.path}, {"request": request}),
            (UserAuthentication.authenticate, {"username": username}, {"user": user}),
        ],
        then=[(Passkeys.registrationOptions, {"user": user, "username": username})],
    )


BeginPasskeyRegistrationOptionsError = error_response(
    BEGIN_PASSKEY_REGISTRATION, Passkeys.registrationOptions, "OptionsError"
)


@sync
def BeginPasskeyRegistrationTicket(request, user, challenge, data):
    return Sync(
        when=[
            (Requesting.request, {"path": BEGIN_PASSKEY_REGISTRATION.path}, {"request": request}),
            (Passkeys.registrationOptions, {"user": user}, {"challenge": challenge}),
        ],
        where=lambda frames: frames.map(keeping(data, challenge=challenge), binds=[data]),
        then=[(OneTimeTokens.issue, {"purpose": PASSKEY_REGISTRATION, "subject": user, "data": data})],
    )


@sync
def BeginPasskeyRegistrationResponse(request, options, ticket):
    return Sync(
        when=[
            (Requesting.request, {"path": BEGIN_PASSKEY_REGISTRATION.path}, {"request": request}),
            (Passkeys.registrationOptions, {}, {"optionsJson": options}),
            (OneTimeTokens.issue, {"purpose": PASSKEY_REGISTRATION}, {"token": ticket}),
        ],
        then=[(Requesting.respond, {"request": request, "optionsJson": options, "ticket": ticket})],
    )


BeginPasskeyRegistrationTicketError = error_response(BEGIN_PASSKEY_REGISTRATION, OneTimeTokens.issue, "TicketError")


# -- Adding one: the browser's answer, verified against the ticket's challenge --------------------


@sync
def FinishPasskeyRegistrationRequest(request, session, ticket, user):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": FINISH_PASSKEY_REGISTRATION.path, "session": session, "ticket": ticket},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            OneTimeTokens._getSubject, {"purpose": PASSKEY_REGISTRATION, "token": ticket}, {"subject": user}
        ),
        then=[(OneTimeTokens.redeem, {"purpose": PASSKEY_REGISTRATION, "token": ticket})],
    )


@sync
def FinishPasskeyRegistrationNotYourTicket(request, session, ticket, user, subject):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": FINISH_PASSKEY_REGISTRATION.path, "session": session, "ticket": ticket},
                {"request": request},
            )
        ],
        where=lambda frames: (
            frames.query(Sessioning._getUser, {"session": session}, {"user": user})
            .query(
                OneTimeTokens._getSubject,
                {"purpose": PASSKEY_REGISTRATION, "token": ticket},
                {"subject": subject},
                default={"subject": None},
            )
            .filter(not_issued_to(user, subject))
        ),
        then=[(Requesting.respond, {"request": request, **NOT_YOUR_TICKET})],
    )


FinishPasskeyRegistrationUnauthenticated = unauthenticated(FINISH_PASSKEY_REGISTRATION)
FinishPasskeyRegistrationTicketError = error_response(
    FINISH_PASSKEY_REGISTRATION, OneTimeTokens.redeem, "TicketError", {"purpose": PASSKEY_REGISTRATION}
)


@sync
def FinishPasskeyRegistrationVerifies(request, credential, name, user, data, challenge):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": FINISH_PASSKEY_REGISTRATION.path, "credentialJson": credential, "name": name},
                {"request": request},
            ),
            (OneTimeTokens.redeem, {"purpose": PASSKEY_REGISTRATION}, {"subject": user, "data": data}),
        ],
        where=lambda frames: frames.map(kept(data, challenge=challenge), binds=[challenge]),
        then=[
            (
                Passkeys.register,
                {"user": user, "challenge": challenge, "credentialJson": credential, "name": name},
            )
        ],
    )


@sync
def FinishPasskeyRegistrationResponse(request, id, name, created_at, backed_up):
    return Sync(
        when=[
            (Requesting.request, {"path": FINISH_PASSKEY_REGISTRATION.path}, {"request": request}),
            (Passkeys.register, {}, {"id": id, "name": name, "createdAt": created_at, "backedUp": backed_up}),
        ],
        then=[
            (
                Requesting.respond,
                {
                    "request": request,
                    "id": id,
                    "name": name,
                    "createdAt": created_at,
                    "lastUsedAt": None,
                    "backedUp": backed_up,
                },
            )
        ],
    )


FinishPasskeyRegistrationResponseError = error_response(FINISH_PASSKEY_REGISTRATION, Passkeys.register)


# -- Removing one -------------------------------------------------------------------------------


@sync
def RemovePasskeyRequest(request, session, user, id):
    return Sync(
        when=[(Requesting.request, {"path": REMOVE_PASSKEY.path, "session": session, "id": id}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
        then=[(Passkeys.remove, {"user": user, "id": id})],
    )


RemovePasskeyUnauthenticated = unauthenticated(REMOVE_PASSKEY)


@sync
def RemovePasskeyResponse(request, id):
    return Sync(
        when=[
            (Requesting.request, {"path": REMOVE_PASSKEY.path}, {"request": request}),
            (Passkeys.remove, {}, {"id": id}),
        ],
        then=[(Requesting.respond, {"request": request, "id": id})],
    )


RemovePasskeyResponseError = error_response(REMOVE_PASSKEY, Passkeys.remove)


# -- Signing in: the options and a ticket ---------------------------------------------------------


@sync
def BeginPasskeyLoginRequest(request):
    return Sync(
        when=[(Requesting.request, {"path": BEGIN_PASSKEY_LOGIN.path}, {"request": request})],
        then=[(Passkeys.authenticationOptions, {})],
    )


@sync
def BeginPasskeyLoginForAnyone(request, challenge, data):
    return Sync(
        when=[
            (Requesting.request, {"path": BEGIN_PASSKEY_LOGIN.path, "username": None}, {"request": request}),
            (Passkeys.authenticationOptions, {}, {"challenge": challenge}),
        ],
        where=lambda frames: frames.map(keeping(data, challenge=challenge), binds=[data]),
        then=[(OneTimeTokens.issue, {"purpose": PASSKEY_LOGIN, "subject": None, "data": data})],
    )


def named(username: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """a username was given"""
        return frame[username] is not None

    return check


@sync
def BeginPasskeyLoginForUsername(request, username, user, challenge, data):
    return Sync(
        when=[
            (Requesting.request, {"path": BEGIN_PASSKEY_LOGIN.path, "username": username}, {"request": request}),
            (Passkeys.authenticationOptions, {}, {"challenge": challenge}),
        ],
        where=lambda frames: (
            frames.filter(named(username))
            .query(
                UserAuthentication._getUserByUsername, {"username": username}, {"user": user}, default={"user": NOBODY}
            )
            .map(keeping(data, challenge=challenge, username=username), binds=[data])
        ),
        then=[(OneTimeTokens.issue, {"purpose": PASSKEY_LOGIN, "subject": user, "data": data})],
    )


@sync
def BeginPasskeyLoginResponse(request, options, ticket):
    return Sync(
        when=[
            (Requesting.request, {"path": BEGIN_PASSKEY_LOGIN.path}, {"request": request}),
            (Passkeys.authenticationOptions, {}, {"optionsJson": options}),
            (OneTimeTokens.issue, {"purpose": PASSKEY_LOGIN}, {"token": ticket}),
        ],
        then=[(Requesting.respond, {"request": request, "optionsJson": options, "ticket": ticket})],
    )


BeginPasskeyLoginTicketError = error_response(BEGIN_PASSKEY_LOGIN, OneTimeTokens.issue, "TicketError")


# -- Signing in: the browser's answer, counted, then verified --------------------------------------


@sync
def FinishPasskeyLoginAttempt(request, ticket, client, data, username):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": FINISH_PASSKEY_LOGIN.path, "ticket": ticket, "client": client},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(
            OneTimeTokens._getSubject, {"purpose": PASSKEY_LOGIN, "token": ticket}, {"data": data}, default={"data": {}}
        ).map(kept(data, username=username), binds=[username]),
        then=[(Throttling.attempt, {"kind": "login", "key": username, "source": client})],
    )


FinishPasskeyLoginThrottled = rate_limited(FINISH_PASSKEY_LOGIN, "login")


@sync
def FinishPasskeyLoginRedeems(request, ticket, at):
    return Sync(
        when=[
            (Requesting.request, {"path": FINISH_PASSKEY_LOGIN.path, "ticket": ticket}, {"request": request}),
            (Throttling.attempt, {"kind": "login"}, {"at": at}),
        ],
        then=[(OneTimeTokens.redeem, {"purpose": PASSKEY_LOGIN, "token": ticket})],
    )


FinishPasskeyLoginTicketError = error_response(
    FINISH_PASSKEY_LOGIN, OneTimeTokens.redeem, "TicketError", {"purpose": PASSKEY_LOGIN}
)


@sync
def FinishPasskeyLoginVerifies(request, credential, user, data, challenge):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": FINISH_PASSKEY_LOGIN.path, "credentialJson": credential},
                {"request": request},
            ),
            (OneTimeTokens.redeem, {"purpose": PASSKEY_LOGIN}, {"subject": user, "data": data}),
        ],
        where=lambda frames: frames.map(kept(data, challenge=challenge), binds=[challenge]),
        then=[(Passkeys.authenticate, {"challenge": challenge, "credentialJson": credential, "user": user})],
    )


@sync
def FinishPasskeyLoginSucceeded(request, client, username, at, user):
    return Sync(
        when=[
            (Requesting.request, {"path": FINISH_PASSKEY_LOGIN.path, "client": client}, {"request": request}),
            (Throttling.attempt, {"kind": "login", "key": username}, {"at": at}),
            (Passkeys.authenticate, {}, {"user": user}),
        ],
        then=[(Throttling.succeed, {"kind": "login", "key": username, "at": at, "source": client})],
    )


FinishPasskeyLoginSignsIn = signs_in(FINISH_PASSKEY_LOGIN, Passkeys.authenticate, method=BY_PASSKEY)


# -- A deleted account's passkeys ---------------------------------------------------------------


@sync
def DeleteAccountRemovesPasskeys(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DELETE_ACCOUNT.path}, {"request": request}),
            (UserAuthentication.completeDeletion, {}, {"user": user}),
        ],
        then=[(Passkeys.removeAll, {"user": user})],
    )
