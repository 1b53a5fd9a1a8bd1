"""Passkeys against the real database, with a software authenticator: registration,
sign-in with and without a username, every refusal, and the races that matter."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from app.concepts.passkeys import CEREMONY_TIME, Credential, Passkeys, RelyingParty, UserHandle

from .authenticator import ORIGIN, RP_ID, InvalidStateError, SoftwareAuthenticator, b64url, unb64url
from .helpers import GatedCollection, Held, ticking_clock
from .indexes import assert_served_by_indexes, recording, winning_stages

CREDENTIALS, HANDLES = "Passkeys.credentials", "Passkeys.userHandles"
RP = RelyingParty(RP_ID, "concept-auth", (ORIGIN, "https://app.localhost"))
ADA, BOB = "6b0000000000000000000001", "6b0000000000000000000002"


@pytest.fixture
async def passkeys(database: Any) -> Passkeys:
    return Passkeys(RP, clock=ticking_clock())


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


async def register(
    passkeys: Passkeys, device: SoftwareAuthenticator, user: str = ADA, name: str | None = None, **knobs: Any
) -> dict[str, Any]:
    """A registration ceremony: options for the user, the device's answer, its verification."""
    options = await passkeys.registrationOptions(user=user, username=f"user-{user[-1]}")
    answer = device.create(options["optionsJson"], **knobs)
    return await passkeys.register(user=user, challenge=options["challenge"], credentialJson=answer, name=name)


async def sign_in(passkeys: Passkeys, device: SoftwareAuthenticator, user: str | None = None, **knobs: Any) -> Any:
    """A sign-in ceremony: options (for the user, or discoverable), the device's answer, its verification."""
    options = await passkeys.authenticationOptions(user=user)
    answer = device.get(options["optionsJson"], **knobs)
    return await passkeys.authenticate(challenge=options["challenge"], credentialJson=answer, user=user)


async def stored(database: Any, user: str = ADA) -> list[dict[str, Any]]:
    return await database[CREDENTIALS].find({"user": user}).to_list()


# -- registration options -------------------------------------------------------------------------


async def test_registration_options_ask_for_a_discoverable_passkey_with_no_attestation(
    database: Any, passkeys: Passkeys
) -> None:
    out = await passkeys.registrationOptions(user=ADA, username="ada")

    assert set(out) == {"optionsJson", "challenge"}
    options = json.loads(out["optionsJson"])
    assert options["rp"] == {"id": "localhost", "name": "concept-auth"}
    assert options["user"]["name"] == options["user"]["displayName"] == "ada"
    assert options["challenge"] == out["challenge"] and len(unb64url(out["challenge"])) == 32
    assert options["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "preferred",
    }
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert -7 in [param["alg"] for param in options["pubKeyCredParams"]]
    assert options["timeout"] == CEREMONY_TIME.total_seconds() * 1000


async def test_a_user_handle_is_random_stable_and_never_the_id_or_the_name(database: Any, passkeys: Passkeys) -> None:
    def handle(out: dict[str, Any]) -> str:
        return str(json.loads(out["optionsJson"])["user"]["id"])

    first = handle(await passkeys.registrationOptions(user=ADA, username="ada"))
    again = handle(await passkeys.registrationOptions(user=ADA, username="ada"))
    other = handle(await passkeys.registrationOptions(user=BOB, username="bob"))

    assert first == again != other
    assert len(unb64url(first)) == 32
    assert ADA.encode() not in unb64url(first) and b"ada" not in unb64url(first)
    assert await database[HANDLES].find_one({"_id": ADA}) == {"_id": ADA, "handle": first}


async def test_each_options_have_a_new_challenge(passkeys: Passkeys) -> None:
    challenges = {(await passkeys.registrationOptions(user=ADA, username="ada"))["challenge"] for _ in range(3)}
    challenges |= {(await passkeys.authenticationOptions(user=None))["challenge"] for _ in range(3)}

    assert len(challenges) == 6


async def test_registration_options_exclude_the_users_passkeys_and_only_theirs(passkeys: Passkeys) -> None:
    phone, laptop = SoftwareAuthenticator(), SoftwareAuthenticator()
    await register(passkeys, phone)
    await register(passkeys, laptop, user=BOB)

    options = json.loads((await passkeys.registrationOptions(user=ADA, username="ada"))["optionsJson"])

    assert [item["id"] for item in options["excludeCredentials"]] == [b64url(phone.keys[0].id)]
    assert set(options["excludeCredentials"][0]["transports"]) == {"internal", "hybrid"}
    with pytest.raises(InvalidStateError):  # the phone declines to make a second one for ada
        phone.create(json.dumps(options))


@pytest.mark.parametrize("user", ["", None, 5, {"$ne": None}], ids=repr)
async def test_registration_options_need_a_user(database: Any, passkeys: Passkeys, user: Any) -> None:
    assert code(await passkeys.registrationOptions(user=user, username="ada")) == "INVALID_USER"
    assert code(await passkeys.registrationOptions(user=ADA, username=user)) == "INVALID_USER"
    assert await database[HANDLES].count_documents({}) == 0


# -- registration ---------------------------------------------------------------------------------


async def test_a_verified_passkey_is_stored_with_what_sign_in_needs(database: Any, passkeys: Passkeys) -> None:
    phone = SoftwareAuthenticator(backed_up=True)

    out = await register(passkeys, phone, name="  Ada's   phone ")

    assert set(out) == {"id", "user", "name", "createdAt", "backedUp"}
    assert out["user"] == ADA and out["name"] == "Ada's phone"
    [document] = await stored(database)
    key = phone.keys[0]
    assert document["_id"] == b64url(key.id) and document["handle"] == out["id"] != document["_id"]
    assert document["public_key"] == key.cose()
    assert document["sign_count"] == 1
    assert document["transports"] == ["hybrid", "internal"]
    assert document["user_handle"] == b64url(key.user_handle)
    assert document["backup_eligible"] is document["backed_up"] is True
    assert document["aaguid"] == "00000000-0000-0000-0000-000000000000"
    assert document["created"] == out["createdAt"] and document["last_used"] is None


async def test_a_passkey_without_a_name_is_called_passkey(passkeys: Passkeys) -> None:
    assert (await register(passkeys, SoftwareAuthenticator()))["name"] == "Passkey"
    assert (await register(passkeys, SoftwareAuthenticator(), name="   "))["name"] == "Passkey"


async def test_a_self_attestation_is_verified_and_accepted_like_none(database: Any, passkeys: Passkeys) -> None:
    assert code(await register(passkeys, SoftwareAuthenticator(), attestation="packed")) is None
    assert code(await register(passkeys, SoftwareAuthenticator(), attestation="packed-forged")) == "INVALID_PASSKEY"
    assert len(await stored(database)) == 1


WRONG_REGISTRATIONS = {
    "wrong origin": {"origin": "https://evil.example"},
    "an origin on another port": {"origin": "http://localhost:8001"},
    "wrong RP ID": {"rp_id": "evil.example"},
    "another challenge": {"challenge": b64url(b"c" * 32)},
    "user not present": {"user_present": False},
}


@pytest.mark.parametrize("knobs", WRONG_REGISTRATIONS.values(), ids=WRONG_REGISTRATIONS.keys())
async def test_a_registration_that_does_not_verify_is_refused_and_stores_nothing(
    database: Any, passkeys: Passkeys, knobs: dict[str, Any]
) -> None:
    out = await register(passkeys, SoftwareAuthenticator(), **knobs)

    assert out == {"error": "The passkey could not be verified; start again.", "code": "INVALID_PASSKEY"}
    assert await stored(database) == []


async def test_a_registration_is_accepted_from_every_configured_origin(passkeys: Passkeys) -> None:
    assert code(await register(passkeys, SoftwareAuthenticator(origin="https://app.localhost"))) is None


async def test_a_registration_answer_for_another_challenge_is_refused(passkeys: Passkeys) -> None:
    first = await passkeys.registrationOptions(user=ADA, username="ada")
    second = await passkeys.registrationOptions(user=ADA, username="ada")
    answer = SoftwareAuthenticator().create(first["optionsJson"])

    refused = await passkeys.register(user=ADA, challenge=second["challenge"], credentialJson=answer)
    accepted = await passkeys.register(user=ADA, challenge=first["challenge"], credentialJson=answer)

    assert code(refused) == "INVALID_PASSKEY" and code(accepted) is None


async def test_a_passkey_registered_already_is_refused(database: Any, passkeys: Passkeys) -> None:
    same = b"the same credential id, twice..."
    await register(passkeys, SoftwareAuthenticator(), credential_id=same)

    again = await register(passkeys, SoftwareAuthenticator(), credential_id=same)
    as_bob = await register(passkeys, SoftwareAuthenticator(), user=BOB, credential_id=same)

    assert again == {"error": "This passkey is registered already.", "code": "INVALID_PASSKEY"}
    assert code(as_bob) == "INVALID_PASSKEY"
    assert [document["user"] for document in await database[CREDENTIALS].find().to_list()] == [ADA]


async def test_a_registration_without_options_for_the_user_is_refused(database: Any, passkeys: Passkeys) -> None:
    options = await passkeys.registrationOptions(user=ADA, username="ada")
    answer = SoftwareAuthenticator().create(options["optionsJson"])

    out = await passkeys.register(user=BOB, challenge=options["challenge"], credentialJson=answer)

    assert code(out) == "INVALID_PASSKEY"
    assert await database[CREDENTIALS].count_documents({}) == 0


def _registration_answers() -> dict[str, Any]:
    """Broken answers, from a valid one (made for the options' challenge below)."""
    valid = json.loads(SoftwareAuthenticator().create(json.dumps(_OPTIONS)))
    response = valid["response"]
    return {
        "not JSON": "{",
        "not an object": "[]",
        "not text": {"id": valid["id"]},
        "None": None,
        "empty": "",
        "deeply nested": "[" * 100_000,
        "over 16 KiB": json.dumps({**valid, "padding": "x" * 16384}),
        "no response": json.dumps({**valid, "response": None}),
        "id is not rawId": json.dumps({**valid, "id": b64url(b"another")}),
        "truncated attestation": json.dumps(
            {**valid, "response": {**response, "attestationObject": response["attestationObject"][:60]}}
        ),
        "attestation not CBOR": json.dumps({**valid, "response": {**response, "attestationObject": b64url(b"\xff")}}),
        "client data not JSON": json.dumps({**valid, "response": {**response, "clientDataJSON": b64url(b"{")}}),
        "no attestation": json.dumps({**valid, "response": {"clientDataJSON": response["clientDataJSON"]}}),
    }


_CHALLENGE = b64url(b"k" * 32)
_OPTIONS = {"rp": {"id": RP_ID}, "user": {"id": b64url(b"h" * 32)}, "challenge": _CHALLENGE}


@pytest.mark.parametrize("answer", _registration_answers().values(), ids=_registration_answers().keys())
async def test_a_malformed_registration_answer_is_refused(database: Any, passkeys: Passkeys, answer: Any) -> None:
    await database[HANDLES].insert_one({"_id": ADA, "handle": _OPTIONS["user"]["id"]})

    out = await passkeys.register(user=ADA, challenge=_CHALLENGE, credentialJson=answer)

    assert code(out) == "INVALID_PASSKEY"
    assert await database[CREDENTIALS].count_documents({}) == 0


@pytest.mark.parametrize("challenge", ["", None, "short", "!" * 43, b64url(b"k" * 31), 7], ids=repr)
async def test_a_challenge_that_is_not_one_of_ours_is_refused(passkeys: Passkeys, challenge: Any) -> None:
    options = await passkeys.registrationOptions(user=ADA, username="ada")
    answer = SoftwareAuthenticator().create(options["optionsJson"], challenge=b64url(b"k" * 32))

    assert code(await passkeys.register(user=ADA, challenge=challenge, credentialJson=answer)) == "INVALID_PASSKEY"


@pytest.mark.parametrize("name", ["x" * 65, 7, "\ud800"], ids=["65 characters", "a number", "a lone surrogate"])
async def test_a_bad_name_is_refused_before_anything_is_verified(database: Any, passkeys: Passkeys, name: Any) -> None:
    out = await register(passkeys, SoftwareAuthenticator(), name=name)

    assert code(out) == "INVALID_PASSKEY" and "64 characters" in out["error"]
    assert await stored(database) == []
    assert code(await register(passkeys, SoftwareAuthenticator(), name="x" * 64)) is None


# -- sign-in --------------------------------------------------------------------------------------


async def test_sign_in_options_list_the_users_passkeys_and_require_verification(passkeys: Passkeys) -> None:
    phone, laptop = SoftwareAuthenticator(), SoftwareAuthenticator()
    await register(passkeys, phone)
    await register(passkeys, laptop)
    await register(passkeys, SoftwareAuthenticator(), user=BOB)

    out = await passkeys.authenticationOptions(user=ADA)

    options = json.loads(out["optionsJson"])
    assert options["rpId"] == "localhost" and options["userVerification"] == "required"
    assert options["challenge"] == out["challenge"] and len(unb64url(out["challenge"])) == 32
    assert [item["id"] for item in options["allowCredentials"]] == [b64url(laptop.keys[0].id), b64url(phone.keys[0].id)]


async def test_without_a_user_or_with_one_without_passkeys_the_options_look_the_same(passkeys: Passkeys) -> None:
    await register(passkeys, SoftwareAuthenticator())

    def shape(out: dict[str, Any]) -> dict[str, Any]:
        options = json.loads(out["optionsJson"])
        return {key: value for key, value in options.items() if key != "challenge"}

    discoverable = shape(await passkeys.authenticationOptions())
    assert shape(await passkeys.authenticationOptions(user=BOB)) == discoverable
    assert shape(await passkeys.authenticationOptions(user={"$ne": None})) == discoverable  # type: ignore[arg-type]
    assert discoverable["allowCredentials"] == []


async def test_a_user_signs_in_with_their_passkey_and_its_counter_moves(database: Any, passkeys: Passkeys) -> None:
    phone = SoftwareAuthenticator()
    added = await register(passkeys, phone)

    out = await sign_in(passkeys, phone, user=ADA)

    assert out == {"user": ADA, "passkey": added["id"]}
    [document] = await stored(database)
    assert document["sign_count"] == 2 and document["last_used"] > document["created"]
    assert (await passkeys._getPasskeys(user=ADA))[0]["lastUsedAt"] == document["last_used"]


async def test_a_discoverable_sign_in_finds_the_user_by_the_passkey(passkeys: Passkeys) -> None:
    phone = SoftwareAuthenticator()
    await register(passkeys, phone, user=BOB)
    added = await register(passkeys, phone)

    assert await sign_in(passkeys, phone) == {"user": ADA, "passkey": added["id"]}
    assert (await sign_in(passkeys, phone, key=phone.keys[0]))["user"] == BOB


async def test_an_authenticator_without_a_counter_signs_in_again_and_again(database: Any, passkeys: Passkeys) -> None:
    synced = SoftwareAuthenticator(counter=False, backed_up=True)
    await register(passkeys, synced)

    for _ in range(3):
        assert (await sign_in(passkeys, synced))["user"] == ADA
    assert (await stored(database))[0]["sign_count"] == 0


WRONG_SIGN_INS = {
    "wrong origin": {"origin": "https://evil.example"},
    "wrong RP ID": {"rp_id": "evil.example"},
    "another challenge": {"challenge": b64url(b"c" * 32)},
    "user not present": {"user_present": False},
    "user not verified": {"user_verified": False},
    "bad signature": {"bad_signature": True},
    "counter not moved": {"sign_count": 1},
    "counter gone back": {"sign_count": 0},
}


@pytest.mark.parametrize("discoverable", [False, True], ids=["with a username", "discoverable"])
@pytest.mark.parametrize("knobs", WRONG_SIGN_INS.values(), ids=WRONG_SIGN_INS.keys())
async def test_a_sign_in_that_does_not_verify_is_refused_and_changes_nothing(
    database: Any, passkeys: Passkeys, knobs: dict[str, Any], discoverable: bool
) -> None:
    phone = SoftwareAuthenticator()
    await register(passkeys, phone)
    before = await stored(database)

    out = await sign_in(passkeys, phone, user=None if discoverable else ADA, **knobs)

    assert out == {"error": "The passkey could not be verified.", "code": "INVALID_CREDENTIALS"}
    assert await stored(database) == before


async def test_a_replayed_sign_in_is_refused(passkeys: Passkeys) -> None:
    phone = SoftwareAuthenticator()
    await register(passkeys, phone)
    options = await passkeys.authenticationOptions(user=ADA)
    answer = phone.get(options["optionsJson"])

    first = await passkeys.authenticate(challenge=options["challenge"], credentialJson=answer, user=ADA)
    again = await passkeys.authenticate(challenge=options["challenge"], credentialJson=answer, user=ADA)
    elsewhere = await passkeys.authenticate(
        challenge=(await passkeys.authenticationOptions(user=ADA))["challenge"], credentialJson=answer, user=ADA
    )

    assert first["user"] == ADA
    assert code(again) == code(elsewhere) == "INVALID_CREDENTIALS"


async def test_a_cloned_key_is_refused_once_its_counter_falls_behind(passkeys: Passkeys, caplog: Any) -> None:
    phone = SoftwareAuthenticator()
    await register(passkeys, phone)
    clone = phone.clone()

    assert (await sign_in(passkeys, phone))["user"] == ADA  # counter 2
    with caplog.at_level(logging.INFO, logger="app.concepts.passkeys"):
        copied = await sign_in(passkeys, clone)  # counter 2 again

    assert code(copied) == "INVALID_CREDENTIALS"
    assert "sign count" in caplog.text and ADA in caplog.text
    assert (await sign_in(passkeys, phone))["user"] == ADA  # counter 3: the original still works


async def test_another_users_passkey_does_not_sign_in_as_the_user(database: Any, passkeys: Passkeys) -> None:
    adas, bobs = SoftwareAuthenticator(), SoftwareAuthenticator()
    await register(passkeys, adas)
    await register(passkeys, bobs, user=BOB)
    options = await passkeys.authenticationOptions(user=ADA)

    bobs_answer = bobs.get(options["optionsJson"], key=bobs.keys[0])
    out = await passkeys.authenticate(challenge=options["challenge"], credentialJson=bobs_answer, user=ADA)

    assert code(out) == "INVALID_CREDENTIALS"
    assert (await stored(database, BOB))[0]["sign_count"] == 1


async def test_a_discoverable_sign_in_must_return_the_passkeys_user_handle(passkeys: Passkeys) -> None:
    phone = SoftwareAuthenticator()
    await register(passkeys, phone)
    await register(passkeys, SoftwareAuthenticator(), user=BOB)
    bobs_handle = json.loads((await passkeys.registrationOptions(user=BOB, username="bob"))["optionsJson"])["user"]

    assert code(await sign_in(passkeys, phone, user_handle=None)) == "INVALID_CREDENTIALS"
    assert code(await sign_in(passkeys, phone, user_handle=unb64url(bobs_handle["id"]))) == "INVALID_CREDENTIALS"
    assert code(await sign_in(passkeys, phone, user=ADA, user_handle=unb64url(bobs_handle["id"]))) == (
        "INVALID_CREDENTIALS"
    )
    # With a username the handle is optional (authenticators may leave it out).
    assert (await sign_in(passkeys, phone, user=ADA, user_handle=None))["user"] == ADA


async def test_an_unknown_or_removed_passkey_does_not_sign_in(passkeys: Passkeys) -> None:
    phone, stranger = SoftwareAuthenticator(), SoftwareAuthenticator()
    added = await register(passkeys, phone)
    options = await passkeys.registrationOptions(user=BOB, username="bob")
    stranger.create(options["optionsJson"])  # made, never registered

    assert code(await sign_in(passkeys, stranger)) == "INVALID_CREDENTIALS"
    await passkeys.remove(user=ADA, id=added["id"])
    assert code(await sign_in(passkeys, phone)) == "INVALID_CREDENTIALS"


@pytest.mark.parametrize(
    "answer",
    ["{", "[]", None, 7, "", json.dumps({"id": "x", "rawId": "x", "type": "public-key", "response": {}})],
    ids=repr,
)
async def test_a_malformed_sign_in_answer_is_refused(passkeys: Passkeys, answer: Any) -> None:
    await register(passkeys, SoftwareAuthenticator())
    options = await passkeys.authenticationOptions(user=ADA)

    out = await passkeys.authenticate(challenge=options["challenge"], credentialJson=answer, user=ADA)

    assert code(out) == "INVALID_CREDENTIALS"


# -- listing and removing -------------------------------------------------------------------------


async def test_a_user_lists_their_passkeys_newest_first_without_keys(passkeys: Passkeys) -> None:
    first = await register(passkeys, SoftwareAuthenticator(), name="phone")
    second = await register(passkeys, SoftwareAuthenticator(backed_up=True), name="laptop")
    await register(passkeys, SoftwareAuthenticator(), user=BOB)

    rows = await passkeys._getPasskeys(user=ADA)

    assert rows == [
        {"id": second["id"], "name": "laptop", "createdAt": second["createdAt"], "lastUsedAt": None, "backedUp": True},
        {"id": first["id"], "name": "phone", "createdAt": first["createdAt"], "lastUsedAt": None, "backedUp": False},
    ]
    assert await passkeys._getPasskey(user=ADA, id=first["id"]) == rows[1:]
    assert await passkeys._getPasskey(user=BOB, id=first["id"]) == []
    assert await passkeys._getPasskeys(user={"$ne": None}) == []  # type: ignore[arg-type]


async def test_a_user_removes_their_passkey_and_only_theirs(database: Any, passkeys: Passkeys) -> None:
    adas = await register(passkeys, SoftwareAuthenticator())
    bobs = await register(passkeys, SoftwareAuthenticator(), user=BOB)

    assert await passkeys.remove(user=ADA, id=bobs["id"]) == {"error": "No such passkey.", "code": "PASSKEY_NOT_FOUND"}
    assert code(await passkeys.remove(user=ADA, id="no-such-passkey")) == "PASSKEY_NOT_FOUND"
    assert code(await passkeys.remove(user=ADA, id={"$ne": None})) == "PASSKEY_NOT_FOUND"  # type: ignore[arg-type]
    assert await passkeys.remove(user=ADA, id=adas["id"]) == {"id": adas["id"]}
    assert code(await passkeys.remove(user=ADA, id=adas["id"])) == "PASSKEY_NOT_FOUND"

    assert await stored(database) == []
    assert len(await stored(database, BOB)) == 1


async def test_removing_all_of_a_users_passkeys_forgets_their_handle_too(database: Any, passkeys: Passkeys) -> None:
    phone = SoftwareAuthenticator()
    await register(passkeys, phone)
    await register(passkeys, SoftwareAuthenticator())
    await register(passkeys, SoftwareAuthenticator(), user=BOB)
    handle = (await database[HANDLES].find_one({"_id": ADA}))["handle"]

    assert await passkeys.removeAll(user=ADA) == {"user": ADA, "count": 2}

    assert await stored(database) == [] and len(await stored(database, BOB)) == 1
    assert await database[HANDLES].find_one({"_id": ADA}) is None
    assert code(await sign_in(passkeys, phone)) == "INVALID_CREDENTIALS"
    options = json.loads((await passkeys.registrationOptions(user=ADA, username="ada"))["optionsJson"])
    assert options["user"]["id"] != handle
    assert await passkeys.removeAll(user=ADA) == {"user": ADA, "count": 0}
    assert code(await passkeys.removeAll(user={"$ne": None})) == "INVALID_USER"  # type: ignore[arg-type]


# -- races ----------------------------------------------------------------------------------------


async def test_of_two_sign_ins_with_one_counter_exactly_one_passes(
    monkeypatch: pytest.MonkeyPatch, passkeys: Passkeys
) -> None:
    phone = SoftwareAuthenticator()
    await register(passkeys, phone)
    clone = phone.clone()
    ceremonies = [await passkeys.authenticationOptions(user=ADA) for _ in range(2)]
    answers = [device.get(options["optionsJson"]) for device, options in zip([phone, clone], ceremonies, strict=True)]
    # Both have read counter 1 and verified counter 2 before either writes.
    GatedCollection.install(monkeypatch, Credential, "update_one", 2)

    outs = await asyncio.gather(
        *(
            passkeys.authenticate(challenge=options["challenge"], credentialJson=answer, user=ADA)
            for options, answer in zip(ceremonies, answers, strict=True)
        )
    )

    assert sorted(str(code(out)) for out in outs) == ["INVALID_CREDENTIALS", "None"]


async def test_of_two_registrations_of_one_passkey_exactly_one_is_stored(
    monkeypatch: pytest.MonkeyPatch, database: Any, passkeys: Passkeys
) -> None:
    same = b"one credential, registered twice"
    ceremonies = [await passkeys.registrationOptions(user=user, username="u") for user in (ADA, BOB)]
    answers = [SoftwareAuthenticator().create(options["optionsJson"], credential_id=same) for options in ceremonies]
    GatedCollection.install(monkeypatch, Credential, "insert_one", 2)

    outs = await asyncio.gather(
        *(
            passkeys.register(user=user, challenge=options["challenge"], credentialJson=answer)
            for user, options, answer in zip((ADA, BOB), ceremonies, answers, strict=True)
        )
    )

    assert sorted(str(code(out)) for out in outs) == ["INVALID_PASSKEY", "None"]
    assert await database[CREDENTIALS].count_documents({}) == 1


async def test_concurrent_first_options_agree_on_one_user_handle(
    monkeypatch: pytest.MonkeyPatch, database: Any, passkeys: Passkeys
) -> None:
    GatedCollection.install(monkeypatch, UserHandle, "find_one_and_update", 3)

    for user in [f"6b00000000000000000000{n:02}" for n in range(10)]:  # a race lost now and then shows
        outs = await asyncio.gather(*(passkeys.registrationOptions(user=user, username="ada") for _ in range(3)))

        handles = {json.loads(out["optionsJson"])["user"]["id"] for out in outs}
        assert handles == {(await database[HANDLES].find_one({"_id": user}))["handle"]}


async def test_a_registration_that_races_removing_all_leaves_no_passkey(
    monkeypatch: pytest.MonkeyPatch, database: Any, passkeys: Passkeys
) -> None:
    options = await passkeys.registrationOptions(user=ADA, username="ada")
    answer = SoftwareAuthenticator().create(options["optionsJson"])
    # The registration has read the user's handle and verified the answer; removeAll runs
    # whole before it stores the passkey.
    held = Held()
    GatedCollection.install(monkeypatch, Credential, "insert_one", held)
    registering = asyncio.create_task(
        passkeys.register(user=ADA, challenge=options["challenge"], credentialJson=answer)
    )
    await held.reached.wait()
    monkeypatch.undo()
    removed = await passkeys.removeAll(user=ADA)
    held.released.set()

    assert code(await registering) == "INVALID_PASSKEY"
    assert removed == {"user": ADA, "count": 0}
    assert await database[CREDENTIALS].count_documents({}) == 0


# -- storage --------------------------------------------------------------------------------------


async def test_passkeys_are_found_by_user_newest_first(database: Any) -> None:
    indexes = await database[CREDENTIALS].index_information()

    assert indexes["user_1_created_-1"]["key"] == [("user", 1), ("created", -1)]


async def test_every_query_is_served_by_an_index(database_url: str, db_name: str) -> None:
    async with recording(database_url, db_name) as (database, recorder):
        passkeys, phone = Passkeys(RP), SoftwareAuthenticator()
        added = await register(passkeys, phone)
        assert code(added) is None, added
        await register(passkeys, SoftwareAuthenticator(), credential_id=phone.keys[0].id)  # a duplicate
        for user in (ADA, None):
            options = await passkeys.authenticationOptions(user=user)
            answer = phone.get(options["optionsJson"])
            for _ in range(2):  # signed in, then refused (the counter did not move)
                await passkeys.authenticate(challenge=options["challenge"], credentialJson=answer, user=user)
        await passkeys._getPasskeys(user=ADA)
        await passkeys._getPasskey(user=ADA, id=added["id"])
        await passkeys.remove(user=BOB, id=added["id"])
        await passkeys.remove(user=ADA, id=added["id"])
        await passkeys.removeAll(user=ADA)

        assert {(q.collection, tuple(sorted(q.query))) for q in recorder.issued} == {
            (CREDENTIALS, ("user",)),
            (CREDENTIALS, ("_id",)),
            (CREDENTIALS, ("_id", "sign_count")),
            (CREDENTIALS, ("handle", "user")),
            (HANDLES, ("_id",)),
            (HANDLES, ("_id", "handle")),
        }
        await assert_served_by_indexes(database, recorder.issued)
        for query in recorder.issued:  # whole, as the server plans it (a conjunction needs its hint)
            found = await winning_stages(database, query.collection, query.query, **query.options)
            assert "IXSCAN" in found and "COLLSCAN" not in found, (query, found)
