"""Password and account: change the password, delete the account.

Both act on the session's user; a `user` argument, when given, must be that user.
A password change revokes the user's other sessions; deleting the account revokes
all of them.
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
def ChangePasswordRevokesOtherSessions(request, session, user):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": CHANGE_PASSWORD.path, "session": session},
                {"request": request},
            ),
            (UserAuthentication.changePassword, {}, {"user": user}),
        ],
        then=[(Sessioning.deleteByUser, {"user": user, "keep": session})],
    )


@sync
def ChangePasswordResponse(request, user, username):
    return Sync(
        when=[
            (Requesting.request, {"path": CHANGE_PASSWORD.path}, {"request": request}),
            (UserAuthentication.changePassword, {}, {"user": user, "username": username}),
        ],
        then=[
            (
                Requesting.respond,
                {"request": request, "status": "password_changed", "user": user, "username": username},
            )
        ],
    )


ChangePasswordResponseError = error_response(CHANGE_PASSWORD, UserAuthentication.changePassword)


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
def DeleteAccountRevokesSessions(user):
    return Sync(
        when=[(UserAuthentication.deleteAccount, {}, {"user": user})],
        then=[(Sessioning.deleteByUser, {"user": user})],
    )


@sync
def DeleteAccountResponse(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": DELETE_ACCOUNT.path}, {"request": request}),
            (UserAuthentication.deleteAccount, {}, {"user": user}),
        ],
        then=[(Requesting.respond, {"request": request, "status": "account_deleted", "user": user})],
    )


DeleteAccountResponseError = error_response(DELETE_ACCOUNT, UserAuthentication.deleteAccount)
