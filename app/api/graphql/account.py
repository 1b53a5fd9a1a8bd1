"""The account: what `changePassword` and `deleteAccount` answer."""

from __future__ import annotations

import strawberry

from app.api.fields import presenter
from app.api.routes.account import CHANGE_PASSWORD, DELETE_ACCOUNT, AccountDeleted, PasswordChanged
from app.api.types import User


@strawberry.type
class ChangePasswordSuccess:
    user: User


@strawberry.type
class DeleteAccountSuccess:
    user: strawberry.ID


@presenter(CHANGE_PASSWORD, result="ChangePasswordResult")
def password_changed(out: PasswordChanged) -> ChangePasswordSuccess:
    return ChangePasswordSuccess(user=User(id=strawberry.ID(out["user"]), username=out["username"]))


@presenter(DELETE_ACCOUNT, result="DeleteAccountResult")
def account_deleted(out: AccountDeleted) -> DeleteAccountSuccess:
    return DeleteAccountSuccess(user=strawberry.ID(out["user"]))
