"""The application's synchronizations, one module per theme."""

from app.engine import Sync, syncs_in

from . import account, auth, credentials, me, throttling, user_sessions, users


def all_syncs() -> list[Sync]:
    """Every sync of the application, in the order they are registered."""
    return syncs_in(auth, credentials, throttling, account, users, me, user_sessions)
