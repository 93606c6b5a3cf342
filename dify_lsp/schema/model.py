"""A small declarative model for plugin YAML schemas.

A schema is a tree of *types*: :class:`Obj` (a mapping with known keys),
:class:`ListOf`, :class:`MapOf` (a mapping whose keys the author chooses,
e.g. credential names), :class:`Either` and :class:`Scalar`.  Each key of an
:class:`Obj` is a :class:`Field` carrying everything the checker, completion
and hover need: type, whether it is required, allowed values with their
meaning, a regex with the schema's own words for it, numeric and length
bounds, the SDK version it appeared in, renamed values, and which kind of
file a path value points at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Union

from dify_lsp.i18n import Message, msg

# Scalar kinds.
STRING = "string"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
DATETIME = "datetime"
ANY = "any"  # any YAML value
SCALAR = "scalar"  # any scalar (string, number, boolean)
DECIMAL = "decimal"  # a number, or text holding one (pydantic Decimal)


@dataclass(frozen=True)
class Scalar:
    kind: str

    @property
    def title(self) -> str:
        return {DATETIME: "RFC 3339 date-time", SCALAR: "scalar", ANY: "any value", DECIMAL: "decimal number"}.get(self.kind, self.kind)


@dataclass(frozen=True, eq=False)
class Field:
    name: str
    type: "SchemaType"
    required: bool = False
    doc: str = ""
    # Allowed values -> what each means (order kept for completion).
    enum: dict[str, str] | None = None
    # The value must match this regex; pattern_doc says it in the schema's words.
    pattern: str | None = None
    pattern_doc: str = ""
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None  # for a list of strings: each item's length
    since: str | None = None  # SDK version that introduced the key
    nullable: bool = False  # `key:` with no value is accepted
    # Values that were renamed: old value -> new value (e.g. date-picker -> date-range).
    renamed_values: dict[str, str] = field(default_factory=dict)
    removed_in: dict[str, str] = field(default_factory=dict)  # old value -> SDK version that renamed it
    # Values refused with a reason of their own (e.g. secret-input for trigger parameters).
    rejected_values: dict[str, str] = field(default_factory=dict)
    # The value (or each list item) is a path to a file of this kind (schema.references kinds).
    path_kind: str | None = None
    # How many items a list may hold / each item's string length.
    max_items: int | None = None
    # Keys that are tolerated but ignored by the loader.
    ignored: bool = False
    # `enum` only feeds completion and hover; other values are not reported.
    suggest_only: bool = False
    # The value must also be a PEP 440 version (the SDK checks the manifest's version with packaging).
    pep440: bool = False
    # The enum values completion offers, when not all of them (accepted others stay valid).
    offered: tuple[str, ...] | None = None
    # An empty value (empty mapping, null) is replaced by a default by the SDK (e.g. a model's
    # label falls back to its name), so it is not checked.
    empty_is_default: bool = False

    def __repr__(self) -> str:
        return f"Field({self.name!r})"

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern) if self.pattern else None

    @property
    def type_title(self) -> str:
        return type_title(self.type)

    @property
    def offered_values(self) -> dict[str, str]:
        """The enum values completion offers, with their meaning."""
        if not self.enum:
            return {}
        return {v: self.enum[v] for v in self.offered if v in self.enum} if self.offered is not None else dict(self.enum)


@dataclass(frozen=True, eq=False)
class Obj:
    title: str
    fields: tuple[Field, ...]
    doc: str = ""
    # Unknown keys are allowed without a warning (e.g. JSON-schema-like values).
    open: bool = False
    # Marks objects that are "parameters" (tool parameters, credentials, settings):
    # they carry a `type` whose value decides valid scopes, `multiple` and `default`.
    role: str | None = None
    # Keys that are accepted as another spelling of a field: alias -> field name.
    aliases: dict[str, str] = field(default_factory=dict)
    # Why an unknown key here is an error, not ignored (e.g. a pydantic enum-keyed dict).
    rejects_unknown: str = ""
    # Keys that are not fields but are tolerated silently when they match this regex
    # (e.g. other language codes in a translated text).
    tolerated_keys: str | None = None

    def __repr__(self) -> str:
        return f"Obj({self.title!r})"

    @cached_property
    def by_name(self) -> dict[str, Field]:
        out = {f.name: f for f in self.fields}
        return out

    @cached_property
    def required_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name)


@dataclass(frozen=True, eq=False)
class ListOf:
    item: "SchemaType"


@dataclass(frozen=True, eq=False)
class MapOf:
    """A mapping whose keys are names chosen by the author (e.g. credential names)."""

    value: "SchemaType"
    key_doc: str = "name"


@dataclass(frozen=True, eq=False)
class Either:
    """One of several shapes (e.g. credentials as a mapping or as a list)."""

    options: tuple["SchemaType", ...]


SchemaType = Union[Scalar, Obj, ListOf, MapOf, Either]


def type_title(t: SchemaType) -> str:
    if isinstance(t, Scalar):
        return t.title
    if isinstance(t, Obj):
        return t.title
    if isinstance(t, ListOf):
        return f"list of {type_title(t.item)}"
    if isinstance(t, MapOf):
        return f"mapping of {t.key_doc} -> {type_title(t.value)}"
    return " or ".join(type_title(o) for o in t.options)


def type_title_message(t: SchemaType) -> Message:
    """:func:`type_title` as a message, so that it can be said in the user's language (dify_lsp.i18n)."""
    if isinstance(t, (Scalar, Obj)):
        return Message(t.title)
    if isinstance(t, ListOf):
        return msg("list of {item}", item=type_title_message(t.item))
    if isinstance(t, MapOf):
        return msg("mapping of {key} -> {value}", key=Message(t.key_doc), value=type_title_message(t.value))
    out = type_title_message(t.options[0])
    for option in t.options[1:]:
        out = msg("{first} or {second}", first=out, second=type_title_message(option))
    return out


def object_options(t: SchemaType | None) -> list[Obj]:
    """The object shapes a type can take (for key completion and lookups)."""
    if isinstance(t, Obj):
        return [t]
    if isinstance(t, Either):
        return [o for opt in t.options for o in object_options(opt)]
    return []
