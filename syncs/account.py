"""Password and account: change the password, delete the account.

Both act on the session's user; a `user` argument, when given, must be that user.
A password change revokes the user's other sessions; deleting the account revokes
all of them.

Fence first, change last: each is staged (UserAuthentication holds the credentials),
then the sessions are revoked, then the change is completed, the one write that puts
it in force. A flow stopped anywhere (a stalled database, a timeout, a killed server)
leaves either the change not in force, or the change in force with the sessions
already revoked; never a session that outlives the credentials it was made with
(credentials.py takes care of the logins that race it).
"""

from app.api.routes.account import CHANGE_PASSWORD, DELETE_ACCOUNT
from app.concepts import Requesting, Sessioning, Throttling, UserAuthentication
from app.engine import Sync, sync

from .shapes import acts_for_self, error_response, forbidden, unauthenticated

# -- Change password ------------------------------------------------------------


@sync
def ChangePasswordRequest(request, user, old_password, new_password, at):
    return Sync(
        when=[
            (
                Requesting.request,
                {
                    "path": CHANGE_PASSWORD.path,
                    "oldPassword": old_password,
                    "newPassword": new_password,
                },
                {"request": request},
            ),
            (Throttling.attempt, {"kind": "password", "key": user}, {"at": at}),
        ],
        then=[
            (
                UserAuthentication.changePassword,
                {"user": user, "oldPassword": old_password, "newPassword": new_password},
            )
        ],
    )


ChangePasswordUnauthenticated = unauthenticated(CHANGE_PASSWORD)
ChangePasswordForbidden = forbidden(CHANGE_PASSWORD)


@sync
def ChangePasswordRevokesOtherSessions(request, session, user, change):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": CHANGE_PASSWORD.path, "session": session},
                {"request": request},
            ),
            (UserAuthentication.changePassword, {}, {"user": user, "change": change}),
        ],
        then=[(Sessioning.deleteByUser, {"user": user, "keep": session})],
    )


@sync
def ChangePasswordTakesEffect(request, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": CHANGE_PASSWORD.path}, {"request": request}),
            (UserAuthentication.changePassword, {}, {"user": user, "change": change}),
            (Sessioning.deleteByUser, {}, {"user": user}),
        ],
        then=[(UserAuthentication.completePasswordChange, {"user": user, "change": change})],
    )


@sync
def ChangePasswordResponse(request, user, username):
    return Sync(
        when=[
            (Requesting.request, {"path": CHANGE_PASSWORD.path}, {"request": request}),
            (UserAuthentication.changePassword, {}, {"user": user, "username": username}),
            (UserAuthentication.completePasswordChange, {}, {"user": user}),
        ],
        then=[
            (
                Requesting.respond,
                {"request": request, "status": "password_changed", "user": user, "username": username},
            )
        ],
    )


ChangePasswordResponseError = error_response(CHANGE_PASSWORD, UserAuthentication.changePassword)
ChangePasswordRevocationError = error_response(CHANGE_PASSWORD, Sessioning.deleteByUser, "RevocationError")
ChangePasswordCompletionError = error_response(
    CHANGE_PASSWORD, UserAuthentication.completePasswordChange, "CompletionError"
)


# -- Delete account -------------------------------------------------------------


@sync
def DeleteAccountRequest(request, session, user, target):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": DELETE_ACCOUNT.path, "session": session, "user": target},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).filter(
            acts_for_self(user, target)
        ),
        then=[(UserAuthentication.deleteAccount, {"user": user})],
    )


DeleteAccountUnauthenticated = unauthenticated(DELETE_ACCOUNT)
DeleteAccountForbidden = forbidden(DELETE_ACCOUNT)


@sync
def DeleteAccountRevokesSessions(request, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": DELETE_ACCOUNT.path}, {"request": request}),
            (UserAuthentication.deleteAccount, {}, {"user": user, "change": change}),
        ],
        then=[(Sessioning.deleteByUser, {"user": user})],
    )


@sync
def DeleteAccountTakesEffect(request, user, change):
    return Sync(
        when=[
            (Requesting.request, {"path": DELETE_ACCOUNT.path}, {"request": request}),
            (UserAuthentication.deleteAccount, {}, {"user": user, "change": change}),
            (Sessioning.deleteByUser, {}, {"user": user}),
        ],
        then=[(UserAuthentication.completeDeletion, {"user": user, "change": change})],
    )


@sync
def DeleteAccountResponse(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DELETE_ACCOUNT.path}, {"request": request}),
            (UserAuthentication.completeDeletion, {}, {"user": user}),
        ],
        then=[(Requesting.respond, {"request": request, "status": "account_deleted", "user": user})],
    )


DeleteAccountResponseError = error_response(DELETE_ACCOUNT, UserAuthentication.deleteAccount)
DeleteAccountRevocationError = error_response(DELETE_ACCOUNT, Sessioning.deleteByUser, "RevocationError")
DeleteAccountCompletionError = error_response(DELETE_ACCOUNT, UserAuthentication.completeDeletion, "CompletionError")
