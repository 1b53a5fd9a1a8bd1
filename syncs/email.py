"""Email: an address per user, verified by a mailed link; password recovery by a link
mailed to a verified address.

- `setEmail` needs the session and the password again (a stolen session must not
  redirect recovery): the password is counted against the user before it is checked,
  with changePassword's limit. Then EmailAddresses records the address unverified, the
  user's earlier verification links are voided, a new one is issued (OneTimeTokens,
  keeping the address it is for) and mailed (Mailing: one durable insert, the token
  sealed), and the request is answered. The user's reset links are voided too: one mailed
  to the earlier address no longer works. The mail is counted for the address it goes to
  (kind "verification", THROTTLE_EMAIL_RESETS a window) once the address is recorded:
  beyond the limit the address stays recorded, unverified, with no new link, and the
  answer is RATE_LIMITED.
- `verifyEmail` redeems the token and verifies the address it was for, only if that is
  still the user's address (one conditional write); otherwise INVALID_TOKEN.
- `requestPasswordReset` is counted for the address and the client address before
  anything else; beyond either limit it is answered as any other, with no mail. Every
  counted request issues a reset token, for the user whose verified address it is or for
  no one, and then queues a mail: the user's, or for no one a mail queued unsent
  (Mailing records it as any, sealed, without its recipient, and the sender deletes it
  unread; tokens for no one expire unused). The same steps on every path, so the answer
  takes as long whether or not the address is known (benchmarks/reset_timing.py
  measures it). Only a user's token is mailed, to that verified address.
- `resetPassword` checks the token (without using it) and then the new password, so a
  refused password leaves the link usable; then redeems it (one conditional delete: of
  concurrent resets with one token, one goes on) and changes the password as
  changePassword does, staged: the credentials held, every session of the user revoked,
  then the one write that puts the password in force. Every other reset link of the
  user is voided, and the request signs in through the session gate like a password
  login (so a second factor, where a user has one, still holds it). A `changePassword`
  voids the user's reset links too.
- The address a reset request is counted for is the address as addresses are compared:
  its other spellings (any case, a domain in full-width letters, Unicode or IDNA) share
  its limit, so none of them floods the inbox.
- When mail is off (production without SMTP_URL), `setEmail` and `requestPasswordReset`
  answer MAIL_UNAVAILABLE before anything is counted or recorded (for every address
  alike: it tells nothing about one).
- Deleting the account removes the address (free again) and every token of the user,
  once the deletion is complete.
"""

from collections.abc import Callable

from app.api.routes.account import CHANGE_PASSWORD, DELETE_ACCOUNT
from app.api.routes.email import GET_EMAIL, REQUEST_PASSWORD_RESET, RESET_PASSWORD, SET_EMAIL, VERIFY_EMAIL
from app.concepts import (
    EmailAddresses,
    Mailing,
    OneTimeTokens,
    Requesting,
    Sessioning,
    Throttling,
    UserAuthentication,
)
from app.concepts import mailing as mails
from app.concepts import one_time_tokens as tokens
from app.concepts.email_addresses import parse
from app.concepts.mailing import MAIL_UNAVAILABLE
from app.concepts.outputs import INVALID_TOKEN, WEAK_PASSWORD, error
from app.concepts.user_authentication.concept import PASSWORD_LENGTH
from app.engine import Frame, Plan, Sync, Var, sync

from .password_again import password_again
from .shapes import error_response, keeping, kept, unauthenticated
from .signing_in import signs_in

RESET = tokens.RESET_PASSWORD
NO_NAME = {"username": ""}
"""The name in the mail queued unsent in place of a reset mail for no one."""

MAIL_OFF = error(MAIL_UNAVAILABLE, "Mail is off on this server, so it cannot send this link.")
BAD_LINK = error(INVALID_TOKEN, "This link is not valid: it is unknown, used, expired or void.")
WEAK = error(WEAK_PASSWORD, f"Passwords are {PASSWORD_LENGTH.start} to {PASSWORD_LENGTH[-1]} characters long.")


def compared(address: Var, key: Var) -> Callable[[Frame], Frame]:
    def compare(frame: Frame) -> Frame:
        """the address as addresses are compared (any case, any form of its domain), or the text as it is"""
        parsed = parse(frame[address])
        return {**frame, key: parsed.key if parsed is not None else frame[address]}

    return compare


def someone(subject: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """the token is a user's (not one issued for no one)"""
        return frame[subject] is not None

    return check


def no_one(subject: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """there is no live token, or it is one issued for no one"""
        return frame[subject] is None

    return check


# -- The session user's address ----------------------------------------------------------------


@sync
def EmailRequest(request, session, user, address, verified):
    return Sync(
        when=[(Requesting.request, {"path": GET_EMAIL.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            EmailAddresses._getAddress, {"user": user}, {"address": address, "verified": verified}
        ),
        then=[(Requesting.respond, {"request": request, "address": address, "verified": verified})],
    )


@sync
def EmailNone(request, session, user):
    return Sync(
        when=[(Requesting.request, {"path": GET_EMAIL.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).without(
            EmailAddresses._getAddress, {"user": user}
        ),
        then=[(Requesting.respond, {"request": request, "address": None})],
    )


EmailUnauthenticated = unauthenticated(GET_EMAIL)


# -- Setting it: mail on, the password counted, then checked ------------------------------------


@sync
def SetEmailMailOff(request, session, user):
    return Sync(
        when=[(Requesting.request, {"path": SET_EMAIL.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            Mailing._getDelivery, {}, {"delivering": False}
        ),
        then=[(Requesting.respond, {"request": request, **MAIL_OFF})],
    )


def while_mail_is_on(frames: Plan) -> Plan:
    """The password is counted only while mail goes somewhere (else MAIL_UNAVAILABLE)."""
    return frames.query(Mailing._getDelivery, {}, {"delivering": True})


SetEmailPassword = password_again(SET_EMAIL, only=while_mail_is_on)


# -- Setting it: recorded unverified, earlier links void, a new one mailed ---------------------


@sync
def SetEmailRecords(request, address, user):
    return Sync(
        when=[
            (Requesting.request, {"path": SET_EMAIL.path, "address": address}, {"request": request}),
            (UserAuthentication.authenticate, {}, {"user": user}),
        ],
        then=[(EmailAddresses.set, {"user": user, "address": address})],
    )


SetEmailRecordError = error_response(SET_EMAIL, EmailAddresses.set, "RecordError")


@sync
def SetEmailVoidsEarlierLinks(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": SET_EMAIL.path}, {"request": request}),
            (EmailAddresses.set, {}, {"user": user}),
        ],
        then=[(OneTimeTokens.void, {"purpose": tokens.VERIFY_EMAIL, "subject": user})],
    )


@sync
def SetEmailCountsMail(request, address, key):
    """Every verification link mailed is counted for the address it goes to, so that
    setting someone's address again and again floods no inbox. Counted once the address
    is the user's: another user's (EMAIL_TAKEN) is never counted, so nobody spends the
    count of an address they cannot set."""
    return Sync(
        when=[
            (Requesting.request, {"path": SET_EMAIL.path}, {"request": request}),
            (EmailAddresses.set, {}, {"address": address}),
        ],
        where=lambda frames: frames.map(compared(address, key), binds=[key]),
        then=[(Throttling.attempt, {"kind": "verification", "key": key})],
    )


SetEmailMailsThrottled = error_response(SET_EMAIL, Throttling.attempt, "MailsThrottled", {"kind": "verification"})


@sync
def SetEmailIssuesLink(request, user, address, data, at):
    return Sync(
        when=[
            (Requesting.request, {"path": SET_EMAIL.path}, {"request": request}),
            (EmailAddresses.set, {}, {"user": user, "address": address}),
            (Throttling.attempt, {"kind": "verification"}, {"at": at}),
            (OneTimeTokens.void, {"purpose": tokens.VERIFY_EMAIL}, {"subject": user}),
        ],
        where=lambda frames: frames.map(keeping(data, address=address), binds=[data]),
        then=[(OneTimeTokens.issue, {"purpose": tokens.VERIFY_EMAIL, "subject": user, "data": data})],
    )


SetEmailLinkError = error_response(SET_EMAIL, OneTimeTokens.issue, "LinkError")


@sync
def SetEmailVoidsResetLinks(request, user):
    """Reset links mailed to the earlier address no longer work: whoever reads that mailbox
    (the reason to change it) keeps no way in."""
    return Sync(
        when=[
            (Requesting.request, {"path": SET_EMAIL.path}, {"request": request}),
            (EmailAddresses.set, {}, {"user": user}),
        ],
        then=[(OneTimeTokens.void, {"purpose": RESET, "subject": user})],
    )


@sync
def SetEmailMailsLink(request, user, username, address, token):
    return Sync(
        when=[
            (Requesting.request, {"path": SET_EMAIL.path}, {"request": request}),
            (UserAuthentication.authenticate, {"username": username}, {"user": user}),
            (EmailAddresses.set, {}, {"user": user, "address": address}),
            (OneTimeTokens.issue, {"purpose": tokens.VERIFY_EMAIL}, {"token": token}),
        ],
        then=[
            (
                Mailing.queue,
                {"to": address, "template": mails.VERIFY_EMAIL, "token": token, "username": username},
            )
        ],
    )


@sync
def SetEmailResponse(request, address, mail):
    return Sync(
        when=[
            (Requesting.request, {"path": SET_EMAIL.path}, {"request": request}),
            (EmailAddresses.set, {}, {"address": address}),
            (Mailing.queue, {"template": mails.VERIFY_EMAIL}, {"mail": mail}),
        ],
        then=[(Requesting.respond, {"request": request, "address": address, "verified": False})],
    )


SetEmailMailError = error_response(SET_EMAIL, Mailing.queue, "MailError")


# -- Verifying it ------------------------------------------------------------------------------


@sync
def VerifyEmailRequest(request, token):
    return Sync(
        when=[(Requesting.request, {"path": VERIFY_EMAIL.path, "token": token}, {"request": request})],
        then=[(OneTimeTokens.redeem, {"purpose": tokens.VERIFY_EMAIL, "token": token})],
    )


VerifyEmailTokenError = error_response(
    VERIFY_EMAIL, OneTimeTokens.redeem, "TokenError", {"purpose": tokens.VERIFY_EMAIL}
)


@sync
def VerifyEmailVerifies(request, user, data, address):
    return Sync(
        when=[
            (Requesting.request, {"path": VERIFY_EMAIL.path}, {"request": request}),
            (OneTimeTokens.redeem, {"purpose": tokens.VERIFY_EMAIL}, {"subject": user, "data": data}),
        ],
        where=lambda frames: frames.map(kept(data, address=address), binds=[address]),
        then=[(EmailAddresses.verify, {"user": user, "address": address})],
    )


@sync
def VerifyEmailResponse(request, address):
    return Sync(
        when=[
            (Requesting.request, {"path": VERIFY_EMAIL.path}, {"request": request}),
            (EmailAddresses.verify, {}, {"address": address, "verified": True}),
        ],
        then=[(Requesting.respond, {"request": request, "address": address, "verified": True})],
    )


@sync
def VerifyEmailAddressChanged(request, message):
    """The link was for an address that is no longer the user's: the link is no good."""
    return Sync(
        when=[
            (Requesting.request, {"path": VERIFY_EMAIL.path}, {"request": request}),
            (EmailAddresses.verify, {}, {"error": message}),
        ],
        then=[(Requesting.respond, {"request": request, **BAD_LINK})],
    )


# -- Asking for a reset link -------------------------------------------------------------------


@sync
def RequestPasswordResetMailOff(request):
    return Sync(
        when=[(Requesting.request, {"path": REQUEST_PASSWORD_RESET.path}, {"request": request})],
        where=lambda frames: frames.query(Mailing._getDelivery, {}, {"delivering": False}),
        then=[(Requesting.respond, {"request": request, **MAIL_OFF})],
    )


@sync
def RequestPasswordResetAttempt(request, address, client, key):
    """Counted for the address as addresses are compared: its other spellings (a domain in
    full-width letters, in Unicode or IDNA) share its limit."""
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": REQUEST_PASSWORD_RESET.path, "address": address, "client": client},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Mailing._getDelivery, {}, {"delivering": True}).map(
            compared(address, key), binds=[key]
        ),
        then=[(Throttling.attempt, {"kind": "reset", "key": key, "source": client})],
    )


@sync
def RequestPasswordResetBeyondTheLimit(request, message):
    """Refused by a limit: answered as any other request, and no mail."""
    return Sync(
        when=[
            (Requesting.request, {"path": REQUEST_PASSWORD_RESET.path}, {"request": request}),
            (Throttling.attempt, {"kind": "reset"}, {"error": message}),
        ],
        then=[(Requesting.respond, {"request": request, "ok": True})],
    )


@sync
def RequestPasswordResetIssues(request, address, at, user):
    """A token for the user whose verified address it is, or for no one."""
    return Sync(
        when=[
            (Requesting.request, {"path": REQUEST_PASSWORD_RESET.path, "address": address}, {"request": request}),
            (Throttling.attempt, {"kind": "reset"}, {"at": at}),
        ],
        where=lambda frames: frames.query(
            EmailAddresses._getVerifiedUser, {"address": address}, {"user": user}, default={"user": None}
        ),
        then=[(OneTimeTokens.issue, {"purpose": RESET, "subject": user, "data": None})],
    )


@sync
def RequestPasswordResetAnswered(request, token):
    """Every counted request is answered alike once its token is issued (the HTTP answer
    waits for the whole flow: the mail, or what stands in for it, is written first)."""
    return Sync(
        when=[
            (Requesting.request, {"path": REQUEST_PASSWORD_RESET.path}, {"request": request}),
            (OneTimeTokens.issue, {"purpose": RESET, "data": None}, {"token": token}),
        ],
        then=[(Requesting.respond, {"request": request, "ok": True})],
    )


@sync
def RequestPasswordResetMails(request, address, user, token, to, username):
    return Sync(
        when=[
            (Requesting.request, {"path": REQUEST_PASSWORD_RESET.path, "address": address}, {"request": request}),
            (OneTimeTokens.issue, {"purpose": RESET, "subject": user, "data": None}, {"token": token}),
        ],
        where=lambda frames: (
            frames.filter(someone(user))
            # still this user's verified address (the output must be the user the token is for)
            .query(EmailAddresses._getVerifiedUser, {"address": address}, {"user": user, "address": to})
            .query(UserAuthentication._getUsernameById, {"user": user}, {"username": username})
        ),
        then=[
            (
                Mailing.queue,
                {"to": to, "template": mails.RESET_PASSWORD, "token": token, "username": username},
            )
        ],
    )


@sync
def RequestPasswordResetForNoOne(request, address, user, token, username):
    """No mail for no one, but the same steps as the mail's: the same lookups, in the same
    order, and a mail queued unsent (checked, sealed and written like the mail, to no one;
    the sender deletes it unread), so the request costs what a user's does."""
    return Sync(
        when=[
            (Requesting.request, {"path": REQUEST_PASSWORD_RESET.path, "address": address}, {"request": request}),
            (OneTimeTokens.issue, {"purpose": RESET, "subject": user, "data": None}, {"token": token}),
        ],
        where=lambda frames: (
            frames.filter(no_one(user))
            # still no one's verified address (else neither a mail nor a stand-in for one)
            .query(EmailAddresses._getVerifiedUser, {"address": address}, {"user": user}, default={"user": None})
            .query(UserAuthentication._getUsernameById, {"user": user}, {"username": username}, default=NO_NAME)
        ),
        then=[
            (
                Mailing.queue,
                {"to": address, "template": mails.RESET_PASSWORD, "token": token, "username": username, "send": False},
            )
        ],
    )


RequestPasswordResetIssueError = error_response(REQUEST_PASSWORD_RESET, OneTimeTokens.issue, "IssueError")


# -- Resetting the password with the link ------------------------------------------------------


@sync
def ResetPasswordRequest(request, token, password, user):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": RESET_PASSWORD.path, "token": token, "newPassword": password},
                {"request": request},
            )
        ],
        where=lambda frames: (
            frames.query(
                OneTimeTokens._getSubject, {"purpose": tokens.RESET_PASSWORD, "token": token}, {"subject": user}
            )
            .filter(someone(user))
            .query(UserAuthentication._checkPassword, {"password": password}, {"acceptable": True})
        ),
        then=[(OneTimeTokens.redeem, {"purpose": tokens.RESET_PASSWORD, "token": token})],
    )


@sync
def ResetPasswordInvalidToken(request, token, user):
    return Sync(
        when=[(Requesting.request, {"path": RESET_PASSWORD.path, "token": token}, {"request": request})],
        where=lambda frames: frames.query(
            OneTimeTokens._getSubject,
            {"purpose": tokens.RESET_PASSWORD, "token": token},
            {"subject": user},
            default={"subject": None},
        ).filter(no_one(user)),
        then=[(Requesting.respond, {"request": request, **BAD_LINK})],
    )


@sync
def ResetPasswordWeakPassword(request, token, password, user):
    """The new password breaks the rule: answered before the token is used, so it still works."""
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": RESET_PASSWORD.path, "token": token, "newPassword": password},
                {"request": request},
            )
        ],
        where=lambda frames: (
            frames.query(
                OneTimeTokens._getSubject, {"purpose": tokens.RESET_PASSWORD, "token": token}, {"subject": user}
            )
            .filter(someone(user))
            .query(UserAuthentication._checkPassword, {"password": password}, {"acceptable": False})
        ),
        then=[(Requesting.respond, {"request": request, **WEAK})],
    )


ResetPasswordTokenError = error_response(
    RESET_PASSWORD, OneTimeTokens.redeem, "TokenError", {"purpose": tokens.RESET_PASSWORD}
)


@sync
def ResetPasswordStagesChange(request, password, user):
    return Sync(
        when=[
            (Requesting.request, {"path": RESET_PASSWORD.path, "newPassword": password}, {"request": request}),
            (OneTimeTokens.redeem, {"purpose": tokens.RESET_PASSWORD}, {"subject": user}),
        ],
        then=[(UserAuthentication.resetPassword, {"user": user, "newPassword": password})],
    )


ResetPasswordStageError = error_response(RESET_PASSWORD, UserAuthentication.resetPassword, "StageError")


@sync
def ResetPasswordRevokesSessions(request, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": RESET_PASSWORD.path}, {"request": request}),
            (UserAuthentication.resetPassword, {}, {"user": user, "change": change}),
        ],
        then=[(Sessioning.deleteByUser, {"user": user})],
    )


ResetPasswordRevocationError = error_response(RESET_PASSWORD, Sessioning.deleteByUser, "RevocationError")


@sync
def ResetPasswordTakesEffect(request, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": RESET_PASSWORD.path}, {"request": request}),
            (UserAuthentication.resetPassword, {}, {"user": user, "change": change}),
            (Sessioning.deleteByUser, {}, {"user": user}),
        ],
        then=[(UserAuthentication.completePasswordChange, {"user": user, "change": change})],
    )


@sync
def ResetPasswordVoidsOtherLinks(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": RESET_PASSWORD.path}, {"request": request}),
            (UserAuthentication.completePasswordChange, {}, {"user": user}),
        ],
        then=[(OneTimeTokens.void, {"purpose": tokens.RESET_PASSWORD, "subject": user})],
    )


@sync
def ChangePasswordVoidsResetLinks(request, user):
    """A changed password leaves no earlier reset link working (whoever the user fears knows
    the old password may have asked for one)."""
    return Sync(
        when=[
            (Requesting.request, {"path": CHANGE_PASSWORD.path}, {"request": request}),
            (UserAuthentication.completePasswordChange, {}, {"user": user}),
        ],
        then=[(OneTimeTokens.void, {"purpose": RESET, "subject": user})],
    )


ResetPasswordSignsIn = signs_in(RESET_PASSWORD, UserAuthentication.completePasswordChange)


# -- A deleted account's address and tokens ----------------------------------------------------


@sync
def DeleteAccountRemovesEmail(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DELETE_ACCOUNT.path}, {"request": request}),
            (UserAuthentication.completeDeletion, {}, {"user": user}),
        ],
        then=[(EmailAddresses.remove, {"user": user})],
    )


@sync
def DeleteAccountRemovesTokens(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DELETE_ACCOUNT.path}, {"request": request}),
            (UserAuthentication.completeDeletion, {}, {"user": user}),
        ],
        then=[(OneTimeTokens.deleteBySubject, {"subject": user})],
    )
