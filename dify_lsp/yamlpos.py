"""YAML with an exact span for every key and value.

``parse_yaml(text)`` never raises: broken YAML gives a :class:`YamlDocument`
whose ``error`` says where and why, and whose ``root`` is ``None``.
Aliases are kept as shared nodes (never expanded), so alias bombs cost
nothing until someone asks for :meth:`YNode.to_python`, which is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from dify_lsp.i18n import msg
from dify_lsp.textpos import Pos, Span

try:  # libyaml is ~10x faster; both give the same marks (code points).
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader

MAX_DEPTH = 200
MAX_EXPANDED_NODES = 100_000

_constructor = yaml.constructor.SafeConstructor()


class YamlTooLarge(ValueError):
    pass


def _span(node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(Pos(s.line, s.column), Pos(e.line, e.column))


@dataclass(eq=False, slots=True)
class YNode:
    span: Span
    tag: str

    def to_python(self, budget: list[int] | None = None) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def walk(self) -> Iterator["YNode"]:
        yield self


@dataclass(eq=False, slots=True)
class YScalar(YNode):
    value: Any
    raw: str
    style: str | None = None

    def to_python(self, budget: list[int] | None = None) -> Any:
        _spend(budget)
        return self.value

    @property
    def text(self) -> str:
        """The scalar as a string, whatever YAML resolved it to."""
        return self.raw


@dataclass(eq=False, slots=True)
class YPair:
    key: YNode
    value: YNode

    @property
    def key_text(self) -> str | None:
        return self.key.raw if isinstance(self.key, YScalar) else None


@dataclass(eq=False, slots=True)
class YMap(YNode):
    pairs: list[YPair] = field(default_factory=list)

    def pair(self, key: str) -> YPair | None:
        for p in self.pairs:
            if p.key_text == key:
                return p
        return None

    def get(self, key: str) -> YNode | None:
        p = self.pair(key)
        return p.value if p else None

    def keys(self) -> list[str]:
        return [k for p in self.pairs if (k := p.key_text) is not None]

    def to_python(self, budget: list[int] | None = None) -> Any:
        budget = _spend(budget)
        return {p.key.to_python(budget) if isinstance(p.key, YScalar) else str(p.key.span): p.value.to_python(budget) for p in self.pairs}

    def walk(self) -> Iterator[YNode]:
        yield self
        for p in self.pairs:
            yield from p.key.walk()
            yield from p.value.walk()


@dataclass(eq=False, slots=True)
class YSeq(YNode):
    items: list[YNode] = field(default_factory=list)

    def to_python(self, budget: list[int] | None = None) -> Any:
        budget = _spend(budget)
        return [i.to_python(budget) for i in self.items]

    def walk(self) -> Iterator[YNode]:
        yield self
        for i in self.items:
            yield from i.walk()


def _spend(budget: list[int] | None) -> list[int]:
    if budget is None:
        budget = [MAX_EXPANDED_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlTooLarge("the YAML expands to too many nodes (alias bomb?)")
    return budget


@dataclass(slots=True)
class YamlError:
    span: Span
    message: str


@dataclass(slots=True)
class YamlDocument:
    root: YNode | None
    error: YamlError | None = None
    duplicate_keys: list[tuple[YPair, YPair]] = field(default_factory=list)  # (first, repeat)
    alias_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_python(self) -> Any:
        return None if self.root is None else self.root.to_python()


def _error_from(exc: Exception, text: str) -> YamlError:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or "invalid YAML"
        # PyYAML's own words stay as it says them (they are what a search finds); the sentence around them is ours.
        cm = exc.context_mark
        if exc.context and cm is not None and cm.line != exc.problem_mark.line:
            message = msg("YAML syntax error: {problem} ({context} started on line {line})", problem=problem, context=exc.context, line=cm.line + 1)
        elif exc.context:
            message = msg("YAML syntax error: {problem} ({context})", problem=problem, context=exc.context)
        else:
            message = msg("YAML syntax error: {problem}", problem=problem)
        line, col = mark.line, mark.column
        lines = text.split("\n")
        if line >= len(lines):
            line, col = max(0, len(lines) - 1), len(lines[-1]) if lines else 0
        line_text = lines[line] if lines else ""
        end = col + 1 if col < len(line_text) else col
        return YamlError(Span(Pos(line, col), Pos(line, end)), message)
    return YamlError(Span(Pos(0, 0), Pos(0, 0)), msg("YAML could not be read: {error}", error=str(exc)))


_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_ScalarNode, _SequenceNode, _MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
_tuple_new = tuple.__new__  # Pos/Span without the NamedTuple __new__ frame: this runs once per node
_SCALAR_CONSTRUCTORS = _constructor.yaml_constructors
_IMMUTABLE = (bool, int, float, type(None), str, bytes)
_scalar_values: dict[tuple[str, str], Any] = {}  # (tag, text) -> value, for immutable values


def _scalar_value(node: yaml.ScalarNode) -> Any:
    key = (node.tag, node.value)
    try:
        return _scalar_values[key]
    except KeyError:
        pass
    fn = _SCALAR_CONSTRUCTORS.get(node.tag)
    if fn is None:  # an unknown tag: SafeConstructor would refuse it; keep the text
        return node.value
    try:
        value = fn(_constructor, node)
    except Exception:  # bad numbers and the like: keep the text
        return node.value
    if not isinstance(value, _IMMUTABLE):  # e.g. a generator for a collection tag on a scalar
        return node.value
    if len(_scalar_values) > 50_000:
        _scalar_values.clear()
    _scalar_values[key] = value
    return value


class _Converter:
    """libyaml's node graph -> Y nodes.  Runs once per YAML node, so it is written for speed."""

    def __init__(self, track_aliases: bool = True) -> None:
        self.memo: dict[int, YNode] = {}
        self.duplicates: list[tuple[YPair, YPair]] = []
        self.aliases = 0
        # Without a '*' in the text there is no alias, so no node is reached twice.
        self.track_aliases = track_aliases

    def convert(self, node: yaml.Node, depth: int = 0) -> YNode:
        memo = self.memo
        track = self.track_aliases
        if track:
            known = memo.get(id(node))
            if known is not None:
                self.aliases += 1
                return known
        if depth > MAX_DEPTH:
            raise YamlTooLarge(msg("the YAML is nested deeper than {limit} levels", limit=MAX_DEPTH))
        s, e = node.start_mark, node.end_mark
        span = _tuple_new(Span, (_tuple_new(Pos, (s.line, s.column)), _tuple_new(Pos, (e.line, e.column))))
        cls = node.__class__
        if cls is _ScalarNode:
            tag = node.tag
            raw = node.value
            # timestamps stay text: the schema checks their format
            value = raw if (tag == _STR_TAG or tag == _TIMESTAMP_TAG) else _scalar_value(node)
            out = YScalar(span, tag, value, raw, node.style)
            if track:
                memo[id(node)] = out
            return out
        if cls is _SequenceNode:
            seq = YSeq(span, node.tag)
            if track:
                memo[id(node)] = seq
            convert = self.convert
            depth += 1
            seq.items = [convert(n, depth) for n in node.value]
            return seq
        mapping = YMap(span, node.tag)
        if track:
            memo[id(node)] = mapping
        convert = self.convert
        depth += 1
        seen: dict[str, YPair] = {}
        pairs = mapping.pairs
        for k, v in node.value:
            key = convert(k, depth)
            pair = YPair(key, convert(v, depth))
            pairs.append(pair)
            if key.__class__ is YScalar:
                text = key.raw
                first = seen.get(text)
                if first is not None:
                    self.duplicates.append((first, pair))
                else:
                    seen[text] = pair
        return mapping


_plain_tags: dict[str, str] = {}  # plain scalar text -> its implicit tag


class _FastLoader(_Loader):  # type: ignore[misc,valid-type]
    """The C loader with PyYAML's implicit tag resolution remembered per plain scalar text
    (keys and enum values repeat a lot; resolution runs in Python once per scalar)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is _ScalarNode:
            if not implicit[0]:  # quoted: always a string (SafeLoader has no path resolvers)
                return _STR_TAG
            tag = _plain_tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) < 256:
                    if len(_plain_tags) > 50_000:
                        _plain_tags.clear()
                    _plain_tags[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document with positions; never raises."""
    try:
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        return YamlDocument(None, _error_from(exc, text))
    except (RecursionError, MemoryError, ValueError) as exc:
        return YamlDocument(None, YamlError(Span(Pos(0, 0), Pos(0, 0)), msg("YAML could not be read: {error}", error=str(exc))))
    if node is None:
        return YamlDocument(None)
    conv = _Converter(track_aliases="*" in text)
    try:
        root = conv.convert(node)
    except YamlTooLarge as exc:  # its message is a catalog message
        return YamlDocument(None, YamlError(_span(node), msg("YAML could not be read: {error}", error=exc.args[0])))
    except RecursionError as exc:
        return YamlDocument(None, YamlError(_span(node), msg("YAML could not be read: {error}", error=str(exc))))
    return YamlDocument(root, None, conv.duplicates, conv.aliases)
