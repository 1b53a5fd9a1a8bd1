"""The user directory can be switched off (USER_DIRECTORY=off, the default in production):
then listing every account is FORBIDDEN to signed-in users. A guard at the request gate
of the listing refuses it before it runs; a request without a live session is still
answered UNAUTHENTICATED by the listing's own syncs."""

from app.api.routes.directory import GET_ALL_USERS
from app.concepts import Gating, Sessioning
from app.concepts.switches import USER_DIRECTORY, Switches
from app.engine import Sync, sync
from app.protocol.codes import FORBIDDEN
from app.protocol.gates import REQUEST_GATE


@sync
def AllUsersWithTheDirectoryOff(key, session, user, switch):
    return Sync(
        when=[(Gating.ask, {"gate": REQUEST_GATE, "key": key, "path": GET_ALL_USERS.path, "session": session}, {})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            Switches._isOff, {"switch": USER_DIRECTORY}, {"switch": switch}
        ),
        then=[
            (
                Gating.refuse,
                {
                    "gate": REQUEST_GATE,
                    "key": key,
                    "code": FORBIDDEN,
                    "error": "The user directory is off on this server: see USER_DIRECTORY.",
                },
            )
        ],
    )
