"""Stored rows ↔ dataclasses: decode a JSON row into `ArticleRecord`, checking every field's type.

A row written by an older or newer hhsync still loads: unknown keys are ignored and missing
keys take the field's default (or a neutral value for a required field). A value of the wrong
type is `BadRow`, so the store can refuse a file it cannot load faithfully, and refuse to write
a record it could not load back.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from core.models import ArticleRecord, Status

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Checker = Callable[[Any], Any]
StoredRow = tuple[Any, ...]
"""A row's JSON values in the order of its dataclass's fields (`RowCodec.stored`)."""
T = TypeVar("T", bound="DataclassInstance")


class BadRow(ValueError):
    """A stored value does not have the type the code expects."""


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def _checker(hint: Any) -> Checker:
    """Build a function that validates a JSON value against a type hint and decodes it."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        optional = type(None) in args
        inner = [_checker(a) for a in args if a is not type(None)]

        def check_union(value: Any) -> Any:
            if value is None and optional:
                return None
            for check in inner:
                try:
                    return check(value)
                except BadRow:
                    continue
            raise BadRow(f"expected {hint}, got {type(value).__name__}")

        return check_union
    if origin is list or (origin is tuple and typing.get_args(hint)[1:] == (...,)):
        (item_hint, *_) = typing.get_args(hint) or (Any,)
        item = _checker(item_hint)
        kind = list if origin is list else tuple

        def check_list(value: Any) -> Any:
            if not isinstance(value, list | tuple):  # a tuple: a stored row (`stored`)
                raise BadRow(f"expected a list, got {type(value).__name__}")
            return kind(item(v) for v in value)

        return check_list
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = {m.value: m for m in hint}

        def check_enum(value: Any) -> Any:
            try:
                return choices[value]
            except (KeyError, TypeError):
                raise BadRow(f"{value!r} is not a {_type_name(hint)}") from None

        return check_enum
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return RowCodec(hint).decode
    if hint is bool:
        return _exact(bool)
    if hint is int:
        return _exact(int)
    if hint is float:

        def check_float(value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadRow(f"expected a number, got {type(value).__name__}")
            return float(value)

        return check_float
    if hint is str:
        return _exact(str)
    return lambda value: value


def _exact(kind: type) -> Checker:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise BadRow(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return check


_FALLBACKS: dict[Any, Any] = {str: "", int: 0, bool: False}


class RowCodec(Generic[T]):
    """Dataclass <-> plain JSON dict. Unknown keys are ignored, missing keys take defaults."""

    def __init__(self, cls: type[T]) -> None:
        self.cls = cls
        hints = typing.get_type_hints(cls)
        self.fields = [f for f in dataclasses.fields(cls) if f.init]
        self.names = frozenset(f.name for f in self.fields)
        self.ordered_names = tuple(f.name for f in self.fields)
        self.checks = {f.name: _checker(hints[f.name]) for f in self.fields}
        self.plain = {f.name: _plain_types(hints[f.name]) for f in self.fields}
        """The exact types a field's JSON value may have to be taken as it is, without its
        check (most of a row: decoded without a call)."""
        self.defaults: dict[str, Callable[[], Any]] = {}
        for f in self.fields:
            if f.default is not dataclasses.MISSING:
                self.defaults[f.name] = _constant(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                self.defaults[f.name] = f.default_factory
            else:
                self.defaults[f.name] = _required_fallback(hints[f.name])

    def decode(self, row: Any) -> T:
        if not isinstance(row, dict):
            raise BadRow(f"expected an object, got {type(row).__name__}")
        values: dict[str, Any] = {}
        plain = self.plain
        for name, check in self.checks.items():
            if name in row:
                if type(value := row[name]) in plain[name]:
                    values[name] = value
                    continue
                try:
                    values[name] = check(value)
                except BadRow as exc:
                    raise BadRow(f"field {name!r}: {exc}") from None
            else:
                values[name] = self.defaults[name]()
        return self.cls(**values)

    def encode(self, obj: T) -> dict[str, Any]:
        return {
            name: value if type(value := getattr(obj, name)) in _PLAIN else _to_json(value)
            for name in self.ordered_names
        }

    def stored(self, obj: T) -> StoredRow:
        """The row as the store holds it in memory: its JSON values in field order, lists as
        tuples (an empty one is shared). A third of a dict's size, and immutable, so a snapshot
        serialised by another thread reads it safely."""
        return tuple(_frozen(getattr(obj, f.name)) for f in self.fields)

    def stored_json(self, row: dict[str, Any]) -> StoredRow:
        """`stored` of a row `encode` made."""
        return tuple(tuple(v) if type(v) is list else v for v in row.values())

    def from_stored(self, row: StoredRow) -> T:
        return self.decode(self.json_of(row))

    def json_of(self, row: StoredRow) -> dict[str, Any]:
        """The JSON object of a stored row (its lists as tuples: `json` writes them alike)."""
        return dict(zip(self.ordered_names, row, strict=True))


def _plain_types(hint: Any) -> frozenset[type]:
    """str, int and bool, and None where optional: the values `_checker` returns unchanged."""
    args = (
        typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType)
        else (hint,)
    )
    if all(a in (str, int, bool, type(None)) for a in args):
        return frozenset(args)
    return frozenset()


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _required_fallback(hint: Any) -> Callable[[], Any]:
    """A default for a required field missing from an old row (forward/backward compatibility)."""
    if hint is Status:
        return lambda: Status.PENDING
    if hint in _FALLBACKS:
        return lambda: _FALLBACKS[hint]
    if type(None) in typing.get_args(hint):
        return lambda: None

    def missing() -> Any:
        raise BadRow(f"a required field of type {_type_name(hint)} is missing")

    return missing


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_to_json(v) for v in value)
    return _to_json(value)


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Most fields of a row: already JSON (an exact type: an enum of str is not plain)."""


def _to_json(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


ARTICLE_ROWS = RowCodec(ArticleRecord)
"""The codec of the ``articles`` table."""
