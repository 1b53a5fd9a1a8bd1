"""EmailAddresses: one address per user, unique in any case, verified only while it is
still the user's, and free again once removed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.concepts.email_addresses import EmailAddress, EmailAddresses, parse

from .helpers import GatedCollection, Held
from .indexes import assert_served_by_indexes, recording

ADDRESSES = EmailAddress.Settings.name
LONGEST = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 61
"""254 characters: the longest address there is."""


@pytest.fixture
async def emails(database: Any) -> EmailAddresses:
    return EmailAddresses()


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


async def address_of(emails: EmailAddresses, user: str) -> dict[str, Any] | None:
    rows = await emails._getAddress(user=user)
    assert len(rows) <= 1
    return dict(rows[0]) if rows else None


# -- what an address is -------------------------------------------------------------------------


def test_the_longest_address_is_254_characters() -> None:
    assert len(LONGEST) == 254 and parse(LONGEST) is not None
    assert parse(LONGEST[:-1] + "dd") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@localhost",
        "ada@example",
        "ada@example.test",
        "ada@example.invalid",
        " ada@example.com",
        "ada@example.com ",
        "a da@example.com",
        "ada@example.com\r\nBcc: eve@example.com",
        '"ada"@example.com',
        "ada@[192.0.2.1]",
        "ada..lovelace@example.com",
        "jürgen@example.com",
        "ada@@example.com",
        LONGEST + "d",
        None,
        5,
        {"$ne": None},
        ["ada@example.com"],
    ],
    ids=repr,
)
async def test_what_is_not_local_at_domain_dot_tld_is_invalid_and_changes_nothing(
    database: Any, emails: EmailAddresses, text: Any
) -> None:
    assert code(await emails.set(user="u1", address=text)) == "INVALID_EMAIL"

    assert await database[ADDRESSES].count_documents({}) == 0


async def test_an_internationalized_domain_is_one_address_with_its_ascii_form(emails: EmailAddresses) -> None:
    assert (await emails.set(user="u1", address="ada@münchen.de"))["address"] == "ada@münchen.de"

    assert code(await emails.set(user="u2", address="ADA@xn--mnchen-3ya.de")) == "EMAIL_TAKEN"


# -- set ----------------------------------------------------------------------------------------


async def test_setting_an_address_stores_it_unverified(emails: EmailAddresses) -> None:
    out = await emails.set(user="u1", address="Ada@Example.COM")

    assert out == {"user": "u1", "address": "Ada@example.com", "verified": False}
    assert await address_of(emails, "u1") == {"address": "Ada@example.com", "verified": False}


async def test_a_new_address_replaces_the_old_one_and_frees_it(emails: EmailAddresses) -> None:
    await emails.set(user="u1", address="ada@example.com")
    await emails.verify(user="u1", address="ada@example.com")

    await emails.set(user="u1", address="lovelace@example.com")

    assert await address_of(emails, "u1") == {"address": "lovelace@example.com", "verified": False}
    assert await emails._getVerifiedUser(address="ada@example.com") == []
    assert code(await emails.set(user="u2", address="ada@example.com")) is None


async def test_setting_the_same_address_again_needs_it_verified_again(emails: EmailAddresses) -> None:
    await emails.set(user="u1", address="ada@example.com")
    await emails.verify(user="u1", address="ada@example.com")

    out = await emails.set(user="u1", address="ADA@example.com")

    assert out == {"user": "u1", "address": "ADA@example.com", "verified": False}
    assert await emails._getVerifiedUser(address="ada@example.com") == []


async def test_another_users_address_in_any_case_is_taken_and_changes_nothing(emails: EmailAddresses) -> None:
    await emails.set(user="u1", address="ada@example.com")
    await emails.set(user="u2", address="bob@example.com")

    assert code(await emails.set(user="u2", address="ADA@EXAMPLE.com")) == "EMAIL_TAKEN"
    assert code(await emails.set(user="u3", address="Ada@Example.com")) == "EMAIL_TAKEN"

    assert await address_of(emails, "u1") == {"address": "ada@example.com", "verified": False}
    assert await address_of(emails, "u2") == {"address": "bob@example.com", "verified": False}
    assert await address_of(emails, "u3") is None


# -- verify -------------------------------------------------------------------------------------


async def test_verifying_the_users_address_in_any_case_marks_it_verified(emails: EmailAddresses) -> None:
    await emails.set(user="u1", address="Ada@example.com")

    out = await emails.verify(user="u1", address="ada@EXAMPLE.com")

    assert out == {"user": "u1", "address": "Ada@example.com", "verified": True}
    assert await address_of(emails, "u1") == {"address": "Ada@example.com", "verified": True}


@pytest.mark.parametrize(
    ("user", "address"),
    [("u1", "lovelace@example.com"), ("u2", "ada@example.com"), ("u1", "not an address"), (None, "ada@example.com")],
)
async def test_verifying_an_address_that_is_not_the_users_changes_nothing(
    emails: EmailAddresses, user: Any, address: Any
) -> None:
    await emails.set(user="u1", address="ada@example.com")

    assert code(await emails.verify(user=user, address=address)) == "EMAIL_NOT_FOUND"

    assert await address_of(emails, "u1") == {"address": "ada@example.com", "verified": False}
    assert await address_of(emails, "u2") is None


async def test_only_a_verified_address_finds_its_user(emails: EmailAddresses) -> None:
    await emails.set(user="u1", address="Ada@example.com")
    assert await emails._getVerifiedUser(address="ada@example.com") == []

    await emails.verify(user="u1", address="ada@example.com")

    assert await emails._getVerifiedUser(address="ADA@example.com") == [{"user": "u1", "address": "Ada@example.com"}]
    assert await emails._getVerifiedUser(address="bob@example.com") == []
    assert await emails._getVerifiedUser(address={"$ne": None}) == []  # type: ignore[arg-type]


# -- remove -------------------------------------------------------------------------------------


async def test_removing_the_users_address_frees_it(emails: EmailAddresses) -> None:
    await emails.set(user="u1", address="ada@example.com")
    await emails.verify(user="u1", address="ada@example.com")

    assert await emails.remove(user="u1") == {"user": "u1"}
    assert await emails.remove(user="u1") == {"user": "u1"}

    assert await address_of(emails, "u1") is None
    assert await emails._getVerifiedUser(address="ada@example.com") == []
    assert code(await emails.set(user="u2", address="ada@example.com")) is None


# -- races --------------------------------------------------------------------------------------


async def test_of_two_users_setting_one_address_at_once_exactly_one_gets_it(
    emails: EmailAddresses, monkeypatch: pytest.MonkeyPatch
) -> None:
    GatedCollection.install(monkeypatch, EmailAddress, "update_one", 2)

    outs = await asyncio.gather(
        emails.set(user="u1", address="ada@example.com"), emails.set(user="u2", address="ADA@example.com")
    )

    assert sorted(str(code(out)) for out in outs) == ["EMAIL_TAKEN", "None"]
    owners = [user for user in ("u1", "u2") if await address_of(emails, user) is not None]
    assert len(owners) == 1


async def test_a_users_two_first_addresses_at_once_both_succeed_and_one_stays(
    emails: EmailAddresses, monkeypatch: pytest.MonkeyPatch
) -> None:
    GatedCollection.install(monkeypatch, EmailAddress, "update_one", 2)

    outs = await asyncio.gather(
        emails.set(user="u1", address="ada@example.com"), emails.set(user="u1", address="lovelace@example.com")
    )

    assert [code(out) for out in outs] == [None, None]
    assert (await address_of(emails, "u1") or {}).get("address") in {"ada@example.com", "lovelace@example.com"}


async def test_an_address_replaced_while_its_verification_waits_is_not_verified(
    emails: EmailAddresses, monkeypatch: pytest.MonkeyPatch
) -> None:
    await emails.set(user="u1", address="ada@example.com")
    held = Held()
    GatedCollection.install(monkeypatch, EmailAddress, "find_one_and_update", held)
    verifying = asyncio.create_task(emails.verify(user="u1", address="ada@example.com"))
    await held.reached.wait()

    await emails.set(user="u1", address="lovelace@example.com")
    held.released.set()

    assert code(await verifying) == "EMAIL_NOT_FOUND"
    assert await address_of(emails, "u1") == {"address": "lovelace@example.com", "verified": False}


# -- storage ------------------------------------------------------------------------------------


async def test_an_address_is_unique_by_its_key(database: Any) -> None:
    indexes = await database[ADDRESSES].index_information()

    assert indexes["key_1"]["key"] == [("key", 1)] and indexes["key_1"]["unique"] is True


async def test_every_query_is_served_by_an_index(database_url: str, db_name: str) -> None:
    async with recording(database_url, db_name) as (database, recorder):
        emails = EmailAddresses()
        await emails.set(user="u1", address="ada@example.com")
        await emails.set(user="u2", address="ada@example.com")
        await emails.verify(user="u1", address="ada@example.com")
        await emails._getAddress(user="u1")
        await emails._getVerifiedUser(address="ada@example.com")
        await emails.remove(user="u1")

        assert {(q.collection, tuple(sorted(q.query))) for q in recorder.issued} == {
            (ADDRESSES, ("_id",)),
            (ADDRESSES, ("_id", "key")),
            (ADDRESSES, ("key", "verified")),
        }
        await assert_served_by_indexes(database, recorder.issued)
