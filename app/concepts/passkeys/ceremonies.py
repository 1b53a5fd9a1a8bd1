"""The WebAuthn ceremonies of a relying party, by py_webauthn: the options a browser
passes to `navigator.credentials.create()` / `.get()`, and the verification of what
the authenticator answered. No cryptography here: py_webauthn does all of it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import webauthn
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

CEREMONY_TIME = timedelta(minutes=5)
"""How long a ceremony may take, from the options to the answer (the browser's timeout;
a ticket that keeps a challenge should last as long)."""

CHALLENGE_BYTES = 32
MAX_CREDENTIAL_JSON = 16 * 1024
"""The longest answer taken (a passkey's is about 1 KB with attestation `none`, which
browsers send when asked for it; a certificate chain would add a few)."""


@dataclass(frozen=True)
class RelyingParty:
    """Who the ceremonies are for: the RP ID (a domain), the name authenticators show,
    and the origins whose pages may run them."""

    id: str
    name: str
    origins: tuple[str, ...]


class Refused(Exception):
    """The answer does not verify; the message says why, for the log (never the client)."""


@dataclass(frozen=True)
class Known:
    """A credential the relying party holds: what goes into exclude and allow lists."""

    id: str
    transports: Sequence[str]


@dataclass(frozen=True)
class Options:
    json: str
    challenge: str


@dataclass(frozen=True)
class Registered:
    credential_id: str
    public_key: bytes
    sign_count: int
    transports: list[str]
    aaguid: str
    backup_eligible: bool
    backed_up: bool


@dataclass(frozen=True)
class Assertion:
    """An answer to `.get()`, parsed but not yet verified: which credential it claims to be."""

    credential: AuthenticationCredential

    @property
    def credential_id(self) -> str:
        return bytes_to_base64url(self.credential.raw_id)

    @property
    def user_handle(self) -> str | None:
        handle = self.credential.response.user_handle
        return bytes_to_base64url(handle) if handle else None


@dataclass(frozen=True)
class Asserted:
    sign_count: int
    backed_up: bool


def new_user_handle() -> str:
    return bytes_to_base64url(secrets.token_bytes(32))


def _descriptors(known: Sequence[Known]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(credential.id), transports=_transports(credential))
        for credential in known
    ]


def _transports(credential: Known) -> list[AuthenticatorTransport]:
    return [AuthenticatorTransport(name) for name in credential.transports if name in _TRANSPORTS]


_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}
_TIMEOUT_MS = int(CEREMONY_TIME.total_seconds() * 1000)


def creation_options(rp: RelyingParty, user_handle: str, username: str, exclude: Sequence[Known]) -> Options:
    """Options for a new passkey: discoverable (a resident key is required, so it can sign
    in without a username), user verification preferred, attestation `none` (the
    authenticator's make is not asked for, nor checked), the user's passkeys excluded
    (an authenticator that holds one says so instead of making another)."""
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=webauthn.base64url_to_bytes(user_handle),
        user_name=username,
        challenge=challenge,
        timeout=_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(exclude),
    )
    return Options(webauthn.options_to_json(options), bytes_to_base64url(challenge))


def request_options(rp: RelyingParty, allow: Sequence[Known]) -> Options:
    """Options for signing in with one of `allow`, or with any discoverable passkey of
    this relying party when `allow` is empty. User verification is required: a passkey
    sign-in stands for both factors (the device, and the PIN or biometric that unlocks it)."""
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    options = webauthn.generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=_TIMEOUT_MS,
        allow_credentials=_descriptors(allow),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return Options(webauthn.options_to_json(options), bytes_to_base64url(challenge))


def _challenge(challenge: str) -> bytes:
    try:
        expected = webauthn.base64url_to_bytes(challenge)
    except (TypeError, ValueError):
        expected = b""
    if len(expected) != CHALLENGE_BYTES:
        raise Refused("not a challenge of ours")
    return expected


def _answer(credential_json: object) -> str:
    if not isinstance(credential_json, str) or len(credential_json) > MAX_CREDENTIAL_JSON:
        raise Refused("the credential is not a JSON document of at most 16 KiB")
    return credential_json


def verify_registration(rp: RelyingParty, credential_json: str, challenge: str) -> Registered:
    """The new passkey, if the answer to `creation_options` verifies: the challenge, an
    origin of the relying party, the RP ID's hash, user presence, and the attestation
    statement (`none` carries none; a self-attestation is verified; no certificate chain
    is trusted or required)."""
    answer, expected = _answer(credential_json), _challenge(challenge)
    # The answer is the client's: whatever py_webauthn raises while parsing or
    # verifying it (a malformed CBOR map, a key of an unknown type) is a refusal.
    try:
        credential = parse_registration_credential_json(answer)
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=expected,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            require_user_presence=True,
        )
    except Exception as refusal:
        raise Refused(str(refusal)) from None
    return Registered(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=sorted({transport.value for transport in credential.response.transports or []}),
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
    )


def read_assertion(credential_json: str) -> Assertion:
    """Which credential an answer to `request_options` claims to be (nothing verified yet)."""
    try:
        return Assertion(parse_authentication_credential_json(_answer(credential_json)))
    except Refused:
        raise
    except Exception as refusal:
        raise Refused(str(refusal)) from None


def verify_assertion(
    rp: RelyingParty, assertion: Assertion, challenge: str, public_key: bytes, sign_count: int
) -> Asserted:
    """The authenticator's new counter, if the assertion verifies: the challenge, an origin
    of the relying party, the RP ID's hash, user presence and verification, the signature
    by `public_key`, and a signature counter past `sign_count` (unless the authenticator
    keeps none: then both are 0)."""
    expected = _challenge(challenge)
    try:
        verified = webauthn.verify_authentication_response(
            credential=assertion.credential,
            expected_challenge=expected,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except Exception as refusal:
        raise Refused(str(refusal)) from None
    return Asserted(sign_count=verified.new_sign_count, backed_up=verified.credential_backed_up)
