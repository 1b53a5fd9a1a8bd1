"""The user directory, for signed-in users: does a user exist, list users, a user's name.

An id that names no user (malformed included) is an answer, not an error:
`exists: false`, `username: null`.
"""

from collections.abc import Callable

from app.api.routes.directory import CHECK_USER_EXISTS, GET_ALL_USERS, GET_USERNAME_BY_ID
from app.concepts import Requesting, Sessioning, UserAuthentication
from app.concepts.outputs import error
from app.concepts.user_authentication import PAGE_SIZES
from app.engine import Frame, Sync, Var, sync
from app.protocol.codes import BAD_USER_INPUT

from .shapes import unauthenticated

# -- Does a user exist? -------------------------------------------------------------


@sync
def CheckUserExistsRequest(request, session, user, target, exists):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": CHECK_USER_EXISTS.path, "session": session, "user": target},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            UserAuthentication._checkUserExists, {"user": target}, {"exists": exists}
        ),
        then=[(Requesting.respond, {"request": request, "exists": exists})],
    )


CheckUserExistsUnauthenticated = unauthenticated(CHECK_USER_EXISTS)

# -- All users, a page at a time -------------------------------------------------------

INVALID_PAGE = f"first must be from {PAGE_SIZES.start} to {PAGE_SIZES[-1]}."


def page_size(first: Var, *, valid: bool) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        return (type(frame[first]) is int and frame[first] in PAGE_SIZES) is valid

    check.__doc__ = f"first is {'' if valid else 'not '}an integer from {PAGE_SIZES.start} to {PAGE_SIZES[-1]}"
    return check


@sync
def GetAllUsersRequest(request, session, caller, first, after, results):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": GET_ALL_USERS.path, "session": session, "first": first, "after": after},
                {"request": request},
            )
        ],
        where=lambda frames: (
            frames.filter(page_size(first, valid=True))
            .query(Sessioning._getUser, {"session": session}, {"user": caller})
            .query(UserAuthentication._getAllUsers, {"first": first, "after": after}, into=results)
        ),
        then=[(Requesting.respond, {"request": request, "results": results})],
    )


GetAllUsersUnauthenticated = unauthenticated(GET_ALL_USERS)


@sync
def GetAllUsersInvalidPage(request, session, caller, first):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": GET_ALL_USERS.path, "session": session, "first": first},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": caller}).filter(
            page_size(first, valid=False)
        ),
        then=[
            (
                Requesting.respond,
                {
                    "request": request,
                    **error(BAD_USER_INPUT, f"first must be from {PAGE_SIZES.start} to {PAGE_SIZES[-1]}."),
                },
            )
        ],
    )


# -- A user's name -----------------------------------------------------------------------


@sync
def GetUsernameByIdRequest(request, session, user, target, username):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": GET_USERNAME_BY_ID.path, "session": session, "user": target},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            UserAuthentication._getUsernameById, {"user": target}, {"username": username}, default={"username": None}
        ),
        then=[(Requesting.respond, {"request": request, "username": username})],
    )


GetUsernameByIdUnauthenticated = unauthenticated(GET_USERNAME_BY_ID)
