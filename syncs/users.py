"""User queries, for signed-in users: does a user exist, list users, a user's name.

An id that names no user (malformed included) is an answer, not an error:
`exists: false`, `username: null`.
"""

from collections.abc import Callable

from app.concepts import Requesting, Sessioning, UserAuthentication
from app.engine import Frame, Sync, Var, sync
from app.protocol.codes import BAD_USER_INPUT
from app.protocol.routes import SESSION, Input, Route

from .shapes import unauthenticated

CHECK_USER_EXISTS = Route(
    "/UserAuthentication/_checkUserExists", SESSION, Input("user"), graphql="Query.checkUserExists"
)
GET_ALL_USERS = Route(
    "/UserAuthentication/_getAllUsers",
    SESSION,
    Input("first", int, optional=True, default=100),
    Input("after", optional=True),
    graphql="Query.allUsers",
)
GET_USERNAME_BY_ID = Route("/UserAuthentication/_getUsernameById", SESSION, Input("user"), graphql="Query.usernameById")

PAGE_SIZES = range(1, 1001)

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


def page_size(first: Var, *, valid: bool) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        return (type(frame[first]) is int and frame[first] in PAGE_SIZES) is valid

    check.__doc__ = f"first is {'' if valid else 'not '}an integer from 1 to 1000"
    return check


@sync
def GetAllUsersRequest(request, session, caller, first, after, user, username, results):
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
            .query(
                UserAuthentication._getAllUsers,
                {"first": first, "after": after},
                {"user": user, "username": username},
                into=results,
            )
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
                {"request": request, "error": "first must be from 1 to 1000.", "code": BAD_USER_INPUT},
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
