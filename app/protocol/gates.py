"""The gates the app's flows pass, by name: where a rule added later (a guard: a sync on
`Gating.ask` at the gate that refuses or holds) can stop a request or a step of it.

- REQUEST_GATE: every request, before its route's syncs run (only while some guard
  watches its path: an unwatched gate always passes, so it is not even asked). Its
  subject is the request: `path` and every input. A refusal answers the request.
- SESSION_GATE: every sign-in (register, authenticate, /login, and every route made
  with `syncs.signing_in.signs_in`), after the credentials are checked and before the
  session is created. Its subject: `user`; `method`, what the sign-in proved (one of
  the methods below, which the session also records); and `version`, the version of
  the credentials it checked (None if its action names none), always given: a guard
  that keeps what the sign-in stood on matches it. A refusal answers the
  request with its error and no session is made; a hold means the holder's syncs
  answer (e.g. a second factor is asked for) and no session is made.
"""

from typing import Final

REQUEST_GATE: Final = "request"
SESSION_GATE: Final = "session"

BY_PASSWORD: Final = "password"
"""A sign-in by a password alone (register, authenticate, /login): one factor, so a
second factor, when the user has one, holds it."""
BY_PASSKEY: Final = "passkey"
"""A sign-in by a passkey its authenticator unlocked (PIN or biometric): both factors,
the device and the user, so nothing holds it for another."""
BY_PASSWORD_TOTP: Final = "password+totp"
"""A password, then a code of the user's authenticator app (verifySecondFactor)."""
BY_PASSWORD_RECOVERY: Final = "password+recovery"
"""A password, then one of the user's recovery codes (verifySecondFactor)."""
