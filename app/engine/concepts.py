"""Concept introspection: which methods are actions and queries, and their signatures.

A concept is a plain class. Public async methods are actions (keyword arguments in,
one flat dict out); methods named with a leading underscore are queries (a list of
dicts out). Signatures are read from type hints: parameters annotated `Secret` are
redacted everywhere, and the return annotation (a TypedDict or a union of them)
declares the possible output keys. An error output (a TypedDict with an `error` key)
may name the codes it carries: `-> Out | Annotated[Error, WEAK_PASSWORD, ...]`, or
`Annotated[Error, ...]` for codes passed on from elsewhere.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeAlias


class _SecretMark:
    def __repr__(self) -> str:
        return "Secret"


SECRET = _SecretMark()
Secret: TypeAlias = Annotated[str, SECRET]
"""A string parameter or output key that must never be printed or stored in clear."""


def _is_secret(hint: Any) -> bool:
    """True for `Secret`, and for `Secret | None`."""
    if typing.get_origin(hint) is Annotated:
        return SECRET in hint.__metadata__
    return any(_is_secret(arg) for arg in typing.get_args(hint))


def _variants(hint: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    """Each TypedDict of a return annotation, with the metadata `Annotated` gave it."""
    if typing.get_origin(hint) is Annotated:
        inner, *metadata = typing.get_args(hint)
        return [(td, tuple(metadata)) for td, _ in _variants(inner)]
    if typing.is_typeddict(hint):
        return [(hint, ())]
    return [variant for arg in typing.get_args(hint) for variant in _variants(arg)]


def _codes(variants: list[tuple[Any, tuple[Any, ...]]]) -> frozenset[str] | None:
    """The codes the error variants declare; None when they declare none, or pass codes on (`...`)."""
    metadata = [item for td, items in variants if "error" in td.__annotations__ for item in items]
    if not metadata or Ellipsis in metadata:
        return None
    return frozenset(str(code) for code in metadata)


@dataclass(frozen=True, eq=False)
class ActionSpec:
    """What the engine knows of one instrumented action (hashed by identity: it is a
    dictionary key on every completion)."""

    concept: str
    name: str
    fn: Callable[..., Any]
    params: frozenset[str]
    outputs: frozenset[str]
    open_inputs: bool
    secrets: frozenset[str] = field(default=frozenset())
    variants: tuple[tuple[str, frozenset[str]], ...] = ()
    """Each possible output: its TypedDict's name and keys (success and error alike)."""
    errors: frozenset[str] | None = None
    """The codes its error outputs may carry, as declared; None if it declares none."""
    passes_codes_on: bool = False
    """Its error outputs carry codes from elsewhere (`Annotated[Error, ...]`)."""

    @property
    def can_fail(self) -> bool:
        return any("error" in keys for _, keys in self.variants)

    @property
    def qualname(self) -> str:
        return f"{self.concept}.{self.name}"

    def __repr__(self) -> str:
        return self.qualname


@dataclass(frozen=True, eq=False)
class QuerySpec:
    """A query's signature: its parameters and, when its return type is a list of a
    TypedDict, the keys of its rows (None: rows of any keys)."""

    qualname: str
    params: frozenset[str]
    open_inputs: bool
    rows: frozenset[str] | None


def read_query(cls: type, name: str, fn: Callable[..., Any]) -> QuerySpec:
    hints = typing.get_type_hints(fn, include_extras=True)
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    rows = None
    returned = hints.get("return")
    if typing.get_origin(returned) is list and typing.is_typeddict(row := typing.get_args(returned)[0]):
        rows = frozenset(row.__annotations__)
    return QuerySpec(
        qualname=f"{concept_name(cls)}.{name}",
        params=frozenset(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)),
        open_inputs=any(p.kind is p.VAR_KEYWORD for p in params),
        rows=rows,
    )


def concept_name(concept: object | type) -> str:
    cls = concept if isinstance(concept, type) else type(concept)
    return str(getattr(cls, "name", None) or cls.__name__)


def is_query(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def class_members(cls: type) -> dict[str, Any]:
    """The functions a concept class defines or inherits (base classes first)."""
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):
        members.update(vars(klass))
    return members


def read_actions(cls: type) -> list[ActionSpec]:
    """Read the action signatures of a concept class (its public async methods)."""
    specs = []
    for name, fn in class_members(cls).items():
        if name.startswith("_") or not inspect.iscoroutinefunction(fn):
            continue
        hints = typing.get_type_hints(fn, include_extras=True)
        params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
        open_inputs = any(p.kind is p.VAR_KEYWORD for p in params)
        named = [p.name for p in params if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD]
        variants = _variants(hints.get("return"))
        outs = [td for td, _ in variants]
        if not outs:
            raise TypeError(
                f"{concept_name(cls)}.{name}: an action must declare its outputs "
                "as a TypedDict or a union of TypedDicts"
            )
        output_keys = {key for td in outs for key in td.__annotations__}
        secrets = {n for n in named if _is_secret(hints.get(n))}
        secrets |= {
            key
            for td in outs
            for key, hint in typing.get_type_hints(td, include_extras=True).items()
            if _is_secret(hint)
        }
        specs.append(
            ActionSpec(
                concept=concept_name(cls),
                name=name,
                fn=fn,
                params=frozenset(named),
                outputs=frozenset(output_keys),
                open_inputs=open_inputs,
                secrets=frozenset(secrets),
                variants=tuple((td.__name__, frozenset(td.__annotations__)) for td in outs),
                errors=_codes(variants),
                passes_codes_on=any(Ellipsis in items for _, items in variants),
            )
        )
    return specs
