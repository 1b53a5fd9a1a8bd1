"""A software WebAuthn authenticator and browser, for fast tests: ES256 key pairs
(cryptography), CBOR (cbor2), and answers shaped as the browser's `credential.toJSON()`
gives them, made from the options' JSON as `PublicKeyCredential.parse*OptionsFromJSON`
reads it. Every knob makes one thing wrong, so each refusal has a test of its own."""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost:8000"
RP_ID = "localhost"

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
"""Authenticator data flags: user present, user verified, backup eligible, backed up,
attested credential data included."""
ES256 = -7
NO_AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class InvalidStateError(Exception):
    """What the browser throws when the authenticator holds an excluded credential."""


class NotAllowedError(Exception):
    """What the browser throws when no credential of the authenticator fits."""


@dataclass
class Key:
    """A credential the authenticator holds (all of them discoverable)."""

    id: bytes
    private: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose(self) -> bytes:
        numbers = self.private.public_key().public_numbers()
        return cbor2.dumps(
            {1: 2, 3: ES256, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data, ec.ECDSA(hashes.SHA256()))


@dataclass
class SoftwareAuthenticator:
    """A platform authenticator with user verification. `counter=False` is one that keeps
    no signature counter (it always says 0, as synced passkeys do); `backed_up` marks its
    passkeys as synced."""

    origin: str = ORIGIN
    counter: bool = True
    backed_up: bool = False
    keys: list[Key] = field(default_factory=list)

    def clone(self) -> SoftwareAuthenticator:
        """Another device with copies of this one's keys and counters (a cloned key)."""
        twin = copy.copy(self)
        twin.keys = [Key(key.id, key.private, key.rp_id, key.user_handle, key.sign_count) for key in self.keys]
        return twin

    def create(
        self,
        options_json: str,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        user_present: bool = True,
        user_verified: bool = True,
        attestation: str = "none",
        credential_id: bytes | None = None,
    ) -> str:
        """`navigator.credentials.create()` with these options, then `credential.toJSON()`,
        as a JSON document. The knobs: the page's origin, the RP ID the authenticator
        hashes, the challenge the browser puts in the client data, the flags, the
        attestation format (`none`, or `packed` self-attestation; `packed-forged` signs
        something else) and the credential id."""
        options = json.loads(options_json)
        rp = rp_id or options["rp"]["id"]
        excluded = {unb64url(item["id"]) for item in options.get("excludeCredentials", [])}
        if any(key.id in excluded and key.rp_id == rp for key in self.keys):
            raise InvalidStateError("the authenticator holds an excluded credential")
        user_handle = unb64url(options["user"]["id"])
        key = Key(credential_id or secrets.token_bytes(32), ec.generate_private_key(ec.SECP256R1()), rp, user_handle)
        key.sign_count = 1 if self.counter else 0
        # One passkey per account on an authenticator: a new one replaces the old.
        self.keys = [old for old in self.keys if (old.rp_id, old.user_handle) != (rp, user_handle)] + [key]
        client_data = self._client_data("webauthn.create", challenge or options["challenge"], origin)
        attested = NO_AAGUID + struct.pack(">H", len(key.id)) + key.id + key.cose()
        auth_data = self._auth_data(rp, user_present, user_verified, key.sign_count, AT) + attested
        statement: dict[str, Any] = {}
        if attestation.startswith("packed"):
            signed = auth_data + hashlib.sha256(client_data).digest()
            statement = {"alg": ES256, "sig": key.sign(signed if attestation == "packed" else signed + b"!")}
        fmt = attestation.split("-")[0]
        attestation_object = cbor2.dumps({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(key.id),
                "rawId": b64url(key.id),
                "type": "public-key",
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "attestationObject": b64url(attestation_object),
                    "authenticatorData": b64url(auth_data),
                    "transports": ["internal", "hybrid"],
                    "publicKeyAlgorithm": ES256,
                },
            }
        )

    def get(
        self,
        options_json: str,
        *,
        key: Key | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        user_present: bool = True,
        user_verified: bool = True,
        sign_count: int | None = None,
        user_handle: bytes | bool | None = True,
        bad_signature: bool = False,
    ) -> str:
        """`navigator.credentials.get()` with these options, then `credential.toJSON()`. It
        answers with `key` if given, else the newest of its keys the options allow (any
        of the RP's when they allow none: a discoverable sign-in). The knobs as for
        `create`, and: the counter it claims, the user handle it returns (True: the key's,
        None: none, or those bytes), a signature over something else."""
        options = json.loads(options_json)
        rp = rp_id or options["rpId"]
        if key is None:
            allowed = {unb64url(item["id"]) for item in options.get("allowCredentials", [])}
            fitting = [k for k in self.keys if k.rp_id == options["rpId"] and (not allowed or k.id in allowed)]
            if not fitting:
                raise NotAllowedError("no credential of this authenticator fits")
            key = fitting[-1]
        if self.counter:
            key.sign_count += 1
        count = key.sign_count if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        auth_data = self._auth_data(rp, user_present, user_verified, count, 0)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = key.sign(signed + b"!" if bad_signature else signed)
        handle = key.user_handle if user_handle is True else user_handle or None
        return json.dumps(
            {
                "id": b64url(key.id),
                "rawId": b64url(key.id),
                "type": "public-key",
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": b64url(handle) if handle else None,
                },
            }
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        document = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(document, separators=(",", ":")).encode()

    def _auth_data(self, rp_id: str, present: bool, verified: bool, count: int, extra: int) -> bytes:
        flags = (UP if present else 0) | (UV if verified else 0) | extra
        if self.backed_up:
            flags |= BE | BS
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", count)
