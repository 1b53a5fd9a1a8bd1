"""Two-factor sign-in: an authenticator app (TOTP) and recovery codes.

- Setting one up, turning it off and renewing the recovery codes need the password
  again (a stolen session must not change the way in): it is counted against the user
  before it is checked, as changePassword's old password is (kind "password").
  `confirmTotpSetup` puts the new secret in force with a code of it, and answers the
  recovery codes. Confirming and disabling revoke the user's other sessions, as a
  password change does (the current one stays).
- Confirming and disabling are changes of the credentials, staged as a password change
  is (fence first, change last). Once the code (confirming: counted against the user,
  kind "second-factor", as verifySecondFactor's are) or the password (disabling) is
  right, a renewal of the credentials is staged (UserAuthentication holds them: no
  version, so no sign-in decided meanwhile stands, credentials.py), the other sessions
  are revoked, the app is put in force (or removed), and the renewal completes (the
  next version: tickets and sign-ins decided on the old one give no session). A flow
  stopped anywhere leaves the change either not in force, or in force with the other
  sessions already revoked: never a session made by the password alone that outlives
  the app's confirmation, nor one made with the app that outlives its removal.
- A password sign-in (a session gate ask with method "password": authenticate, /login,
  and any other route that signs in by a password alone) of a user with an
  authenticator app in force is held by the guard below: no session, but a ticket (a
  OneTimeTokens token, five minutes, single use) keeping what the sign-in proved and
  the version of the credentials its password was checked against (not the version
  read after: a password changed while it was checked gives the ticket no session),
  answered as the route's
  SecondFactorRequired output ({ticket, expiresAt}). Passkeys are never held (both
  factors), nor is a second factor's own sign-in ("password+totp",
  "password+recovery"). Every route that declares SecondFactorRequired among its
  outputs is answered so (a route that signs in by a password and does not declare it
  is held all the same, and its request fails: never a session without the factor).
- `verifySecondFactor`: the ticket is looked up (not used up: a mistyped code may be
  typed again), the code is counted against the ticket's user (kind "second-factor":
  the per-username limit in each window, never cleared by a password, so a guesser who
  has the password gets no more tries by signing in again) before it is checked, and a
  success clears the count. Then the ticket is redeemed, one conditional delete: of
  concurrent uses of one ticket at most one gets past it, and only then is the session
  asked for, as a sign-in by "password+totp" or "password+recovery". The session is
  checked against the credentials version the ticket kept (signing_in.py): a password
  changed or an account deleted since the password was checked leaves no session.
- Deleting the account removes its second factor, once the deletion is complete.
"""

from collections.abc import Callable

from app.api.routes import all_routes
from app.api.routes.access import SecondFactorRequired
from app.api.routes.account import DELETE_ACCOUNT
from app.api.routes.two_factor import (
    BEGIN_TOTP_SETUP,
    CONFIRM_TOTP_SETUP,
    DISABLE_TOTP,
    REGENERATE_RECOVERY_CODES,
    TWO_FACTOR,
    VERIFY_SECOND_FACTOR,
)
from app.concepts import Gating, OneTimeTokens, Requesting, Sessioning, Throttling, TwoFactor, UserAuthentication
from app.concepts.one_time_tokens import SECOND_FACTOR
from app.concepts.outputs import INVALID_TOKEN, TOTP_NOT_ENABLED, error
from app.engine import Frame, Sync, Var, sync
from app.protocol.gates import BY_PASSWORD, SESSION_GATE
from app.protocol.routes import Route

from .password_again import password_again
from .shapes import error_response, kept, unauthenticated
from .signing_in import signs_in
from .throttling import rate_limited

CODES = "second-factor"
"""The throttling kind of the codes of verifySecondFactor, counted per user."""
HOLDER = "TwoFactor"

NOT_ENABLED = error(TOTP_NOT_ENABLED, "No authenticator app is enabled.")
BAD_TICKET = error(INVALID_TOKEN, "This ticket is not valid: it is unknown, used or expired. Sign in again.")


def ticket_data(data: Var, checked: Var, current: Var) -> Callable[[Frame], Frame]:
    def keep(frame: Frame) -> Frame:
        """the ticket keeps what the sign-in proved (a password), and the credentials version it stood on: the one
        its password was checked against (the current one only if the sign-in names none)"""
        version = frame[checked] if frame[checked] is not None else frame[current]
        return {**frame, data: {"method": BY_PASSWORD, "version": version}}

    return keep


# -- Status -----------------------------------------------------------------------------------------


@sync
def TwoFactorStatusRequest(request, session, user, totp, left):
    return Sync(
        when=[(Requesting.request, {"path": TWO_FACTOR.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            TwoFactor._getStatus, {"user": user}, {"totp": totp, "recoveryCodesLeft": left}
        ),
        then=[(Requesting.respond, {"request": request, "totp": totp, "recoveryCodesLeft": left})],
    )


TwoFactorStatusUnauthenticated = unauthenticated(TWO_FACTOR)


# -- The password again: setting up, disabling, renewing the recovery codes ---------------------------


BeginTotpSetupPassword = password_again(BEGIN_TOTP_SETUP)


@sync
def BeginTotpSetupBegins(request, user, username):
    return Sync(
        when=[
            (Requesting.request, {"path": BEGIN_TOTP_SETUP.path}, {"request": request}),
            (UserAuthentication.authenticate, {"username": username}, {"user": user}),
        ],
        then=[(TwoFactor.beginSetup, {"user": user, "username": username})],
    )


@sync
def BeginTotpSetupResponse(request, secret, uri, svg):
    return Sync(
        when=[
            (Requesting.request, {"path": BEGIN_TOTP_SETUP.path}, {"request": request}),
            (TwoFactor.beginSetup, {}, {"secret": secret, "uri": uri, "qrCodeSvg": svg}),
        ],
        then=[(Requesting.respond, {"request": request, "secret": secret, "uri": uri, "qrCodeSvg": svg})],
    )


BeginTotpSetupResponseError = error_response(BEGIN_TOTP_SETUP, TwoFactor.beginSetup)


@sync
def ConfirmTotpSetupAttempt(request, session, user):
    return Sync(
        when=[(Requesting.request, {"path": CONFIRM_TOTP_SETUP.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
        then=[(Throttling.attempt, {"kind": CODES, "key": user})],
    )


ConfirmTotpSetupUnauthenticated = unauthenticated(CONFIRM_TOTP_SETUP)
ConfirmTotpSetupThrottled = rate_limited(CONFIRM_TOTP_SETUP, CODES)


@sync
def ConfirmTotpSetupChecksCode(request, code, user, at):
    return Sync(
        when=[
            (Requesting.request, {"path": CONFIRM_TOTP_SETUP.path, "code": code}, {"request": request}),
            (Throttling.attempt, {"kind": CODES, "key": user}, {"at": at}),
        ],
        then=[(TwoFactor.checkSetup, {"user": user, "code": code})],
    )


ConfirmTotpSetupCheckError = error_response(CONFIRM_TOTP_SETUP, TwoFactor.checkSetup, "CheckError")


@sync
def ConfirmTotpSetupStagesRenewal(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": CONFIRM_TOTP_SETUP.path}, {"request": request}),
            (TwoFactor.checkSetup, {}, {"user": user}),
        ],
        then=[(UserAuthentication.stageRenewal, {"user": user})],
    )


ConfirmTotpSetupStagingError = error_response(CONFIRM_TOTP_SETUP, UserAuthentication.stageRenewal, "StagingError")


@sync
def ConfirmTotpSetupRevokesOtherSessions(request, session, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": CONFIRM_TOTP_SETUP.path, "session": session}, {"request": request}),
            (UserAuthentication.stageRenewal, {}, {"user": user, "change": change}),
        ],
        then=[(Sessioning.deleteByUser, {"user": user, "keep": session})],
    )


ConfirmTotpSetupRevocationError = error_response(CONFIRM_TOTP_SETUP, Sessioning.deleteByUser, "RevocationError")


@sync
def ConfirmTotpSetupConfirms(request, code, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": CONFIRM_TOTP_SETUP.path, "code": code}, {"request": request}),
            (UserAuthentication.stageRenewal, {}, {"user": user, "change": change}),
            (Sessioning.deleteByUser, {}, {"user": user}),
        ],
        then=[(TwoFactor.confirmSetup, {"user": user, "code": code})],
    )


ConfirmTotpSetupResponseError = error_response(CONFIRM_TOTP_SETUP, TwoFactor.confirmSetup)


@sync
def ConfirmTotpSetupCompletes(request, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": CONFIRM_TOTP_SETUP.path}, {"request": request}),
            (UserAuthentication.stageRenewal, {}, {"user": user, "change": change}),
            (TwoFactor.confirmSetup, {}, {"user": user}),
        ],
        then=[(UserAuthentication.completePasswordChange, {"user": user, "change": change})],
    )


@sync
def ConfirmTotpSetupReleasesRenewal(request, user, change, message):
    return Sync(
        when=[
            (Requesting.request, {"path": CONFIRM_TOTP_SETUP.path}, {"request": request}),
            (UserAuthentication.stageRenewal, {}, {"user": user, "change": change}),
            (TwoFactor.confirmSetup, {}, {"error": message}),
        ],
        # Nothing was put in force (replaced or confirmed meanwhile): the credentials are
        # freed now rather than when the lease runs out (the error is answered already).
        then=[(UserAuthentication.completePasswordChange, {"user": user, "change": change})],
    )


@sync
def ConfirmTotpSetupResponse(request, user, at, codes):
    return Sync(
        when=[
            (Requesting.request, {"path": CONFIRM_TOTP_SETUP.path}, {"request": request}),
            (Throttling.attempt, {"kind": CODES, "key": user}, {"at": at}),
            (TwoFactor.confirmSetup, {}, {"user": user, "recoveryCodes": codes}),
            (UserAuthentication.completePasswordChange, {}, {"user": user}),
        ],
        then=[
            (Throttling.succeed, {"kind": CODES, "key": user, "at": at}),
            (Requesting.respond, {"request": request, "recoveryCodes": codes}),
        ],
    )


@sync
def ConfirmTotpSetupCompletionError(request, user, message, code):
    return Sync(
        when=[
            (Requesting.request, {"path": CONFIRM_TOTP_SETUP.path}, {"request": request}),
            (TwoFactor.confirmSetup, {}, {"user": user}),
            (UserAuthentication.completePasswordChange, {}, {"error": message, "code": code}),
        ],
        then=[(Requesting.respond, {"request": request, "error": message, "code": code})],
    )


DisableTotpPassword = password_again(DISABLE_TOTP)


@sync
def DisableTotpStagesRenewal(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DISABLE_TOTP.path}, {"request": request}),
            (UserAuthentication.authenticate, {}, {"user": user}),
        ],
        where=lambda frames: frames.query(TwoFactor._isEnabled, {"user": user}, {}),
        then=[(UserAuthentication.stageRenewal, {"user": user})],
    )


@sync
def DisableTotpNotEnabled(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DISABLE_TOTP.path}, {"request": request}),
            (UserAuthentication.authenticate, {}, {"user": user}),
        ],
        where=lambda frames: frames.without(TwoFactor._isEnabled, {"user": user}),
        then=[(Requesting.respond, {"request": request, **NOT_ENABLED})],
    )


DisableTotpStagingError = error_response(DISABLE_TOTP, UserAuthentication.stageRenewal, "StagingError")


@sync
def DisableTotpRevokesOtherSessions(request, session, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": DISABLE_TOTP.path, "session": session}, {"request": request}),
            (UserAuthentication.stageRenewal, {}, {"user": user, "change": change}),
        ],
        then=[(Sessioning.deleteByUser, {"user": user, "keep": session})],
    )


DisableTotpRevocationError = error_response(DISABLE_TOTP, Sessioning.deleteByUser, "RevocationError")


@sync
def DisableTotpDisables(request, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": DISABLE_TOTP.path}, {"request": request}),
            (UserAuthentication.stageRenewal, {}, {"user": user, "change": change}),
            (Sessioning.deleteByUser, {}, {"user": user}),
        ],
        then=[(TwoFactor.disable, {"user": user})],
    )


DisableTotpResponseError = error_response(DISABLE_TOTP, TwoFactor.disable)


@sync
def DisableTotpCompletes(request, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": DISABLE_TOTP.path}, {"request": request}),
            (UserAuthentication.stageRenewal, {}, {"user": user, "change": change}),
            (TwoFactor.disable, {}, {"user": user}),
        ],
        then=[(UserAuthentication.completePasswordChange, {"user": user, "change": change})],
    )


@sync
def DisableTotpReleasesRenewal(request, user, change, message):
    return Sync(
        when=[
            (Requesting.request, {"path": DISABLE_TOTP.path}, {"request": request}),
            (UserAuthentication.stageRenewal, {}, {"user": user, "change": change}),
            (TwoFactor.disable, {}, {"error": message}),
        ],
        # Turned off meanwhile (the error is answered already): the credentials are freed now.
        then=[(UserAuthentication.completePasswordChange, {"user": user, "change": change})],
    )


@sync
def DisableTotpResponse(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DISABLE_TOTP.path}, {"request": request}),
            (TwoFactor.disable, {}, {"user": user}),
            (UserAuthentication.completePasswordChange, {}, {"user": user}),
        ],
        then=[(Requesting.respond, {"request": request, "ok": True})],
    )


@sync
def DisableTotpCompletionError(request, user, message, code):
    return Sync(
        when=[
            (Requesting.request, {"path": DISABLE_TOTP.path}, {"request": request}),
            (TwoFactor.disable, {}, {"user": user}),
            (UserAuthentication.completePasswordChange, {}, {"error": message, "code": code}),
        ],
        then=[(Requesting.respond, {"request": request, "error": message, "code": code})],
    )


RegenerateRecoveryCodesPassword = password_again(REGENERATE_RECOVERY_CODES)


@sync
def RegenerateRecoveryCodesRenews(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": REGENERATE_RECOVERY_CODES.path}, {"request": request}),
            (UserAuthentication.authenticate, {}, {"user": user}),
        ],
        then=[(TwoFactor.regenerateRecoveryCodes, {"user": user})],
    )


@sync
def RegenerateRecoveryCodesResponse(request, codes):
    return Sync(
        when=[
            (Requesting.request, {"path": REGENERATE_RECOVERY_CODES.path}, {"request": request}),
            (TwoFactor.regenerateRecoveryCodes, {}, {"recoveryCodes": codes}),
        ],
        then=[(Requesting.respond, {"request": request, "recoveryCodes": codes})],
    )


RegenerateRecoveryCodesResponseError = error_response(REGENERATE_RECOVERY_CODES, TwoFactor.regenerateRecoveryCodes)


# -- The guard: a password sign-in of a user with an authenticator app is held --------------------------


@sync
def SecondFactorHoldsPasswordSignIn(key, user, checked, version, data):
    return Sync(
        when=[
            (
                Gating.ask,
                {"gate": SESSION_GATE, "key": key, "user": user, "method": BY_PASSWORD, "version": checked},
                {},
            )
        ],
        where=lambda frames: (
            frames.query(TwoFactor._isEnabled, {"user": user}, {})
            .query(UserAuthentication._getCredentials, {"user": user}, {"version": version}, default={"version": None})
            .map(ticket_data(data, checked, version), binds=[data])
        ),
        then=[
            (Gating.hold, {"gate": SESSION_GATE, "key": key, "by": HOLDER}),
            (OneTimeTokens.issue, {"purpose": SECOND_FACTOR, "subject": user, "data": data}),
        ],
    )


def second_factor_answer(route: Route) -> list[Sync]:
    """The syncs that answer a held sign-in on `route` with its SecondFactorRequired output."""

    @sync(name=f"{route.name}SecondFactorRequired")
    def Required(request, ticket, expires_at):
        return Sync(
            when=[
                (Requesting.request, {"path": route.path}, {"request": request}),
                (OneTimeTokens.issue, {"purpose": SECOND_FACTOR}, {"token": ticket, "expiresAt": expires_at}),
            ],
            then=[(Requesting.respond, {"request": request, "ticket": ticket, "expiresAt": expires_at})],
        )

    return [Required, error_response(route, OneTimeTokens.issue, "TicketError", {"purpose": SECOND_FACTOR})]


HeldSignInsAnswered = [
    answer for route in all_routes() if SecondFactorRequired in route.outputs for answer in second_factor_answer(route)
]


# -- verifySecondFactor ---------------------------------------------------------------------------


@sync
def VerifySecondFactorAttempt(request, ticket, user):
    return Sync(
        when=[(Requesting.request, {"path": VERIFY_SECOND_FACTOR.path, "ticket": ticket}, {"request": request})],
        where=lambda frames: frames.query(
            OneTimeTokens._getSubject, {"purpose": SECOND_FACTOR, "token": ticket}, {"subject": user}
        ),
        then=[(Throttling.attempt, {"kind": CODES, "key": user})],
    )


@sync
def VerifySecondFactorBadTicket(request, ticket):
    return Sync(
        when=[(Requesting.request, {"path": VERIFY_SECOND_FACTOR.path, "ticket": ticket}, {"request": request})],
        where=lambda frames: frames.without(OneTimeTokens._getSubject, {"purpose": SECOND_FACTOR, "token": ticket}),
        then=[(Requesting.respond, {"request": request, **BAD_TICKET})],
    )


VerifySecondFactorThrottled = rate_limited(VERIFY_SECOND_FACTOR, CODES)


@sync
def VerifySecondFactorChecksCode(request, ticket, code, user, at, data, proven, version):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": VERIFY_SECOND_FACTOR.path, "ticket": ticket, "code": code},
                {"request": request},
            ),
            (Throttling.attempt, {"kind": CODES, "key": user}, {"at": at}),
        ],
        where=lambda frames: frames.query(
            OneTimeTokens._getSubject, {"purpose": SECOND_FACTOR, "token": ticket}, {"data": data}, default={"data": {}}
        ).map(kept(data, method=proven, version=version), binds=[proven, version]),
        then=[(TwoFactor.verify, {"user": user, "code": code, "proven": proven, "version": version})],
    )


@sync
def VerifySecondFactorSucceeded(request, user, at):
    return Sync(
        when=[
            (Requesting.request, {"path": VERIFY_SECOND_FACTOR.path}, {"request": request}),
            (Throttling.attempt, {"kind": CODES, "key": user}, {"at": at}),
            (TwoFactor.verify, {}, {"user": user}),
        ],
        then=[(Throttling.succeed, {"kind": CODES, "key": user, "at": at})],
    )


@sync
def VerifySecondFactorRedeems(request, ticket, user):
    return Sync(
        when=[
            (Requesting.request, {"path": VERIFY_SECOND_FACTOR.path, "ticket": ticket}, {"request": request}),
            (TwoFactor.verify, {}, {"user": user}),
        ],
        then=[(OneTimeTokens.redeem, {"purpose": SECOND_FACTOR, "token": ticket})],
    )


VerifySecondFactorTicketError = error_response(
    VERIFY_SECOND_FACTOR, OneTimeTokens.redeem, "TicketError", {"purpose": SECOND_FACTOR}
)
VerifySecondFactorSignsIn = signs_in(
    VERIFY_SECOND_FACTOR, TwoFactor.verify, after=(OneTimeTokens.redeem, {"purpose": SECOND_FACTOR}, "subject")
)


# -- A deleted account's second factor ------------------------------------------------------------------


@sync
def DeleteAccountRemovesSecondFactor(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DELETE_ACCOUNT.path}, {"request": request}),
            (UserAuthentication.completeDeletion, {}, {"user": user}),
        ],
        then=[(TwoFactor.remove, {"user": user})],
    )
