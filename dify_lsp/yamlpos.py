"""YAML with an exact span for every key and value.

``parse_yaml(text)`` never raises: broken YAML gives a :class:`YamlDocument`
whose ``error`` says where and why, and whose ``root`` is ``None``.
Aliases are kept as shared nodes (never expanded), so alias bombs cost
nothing until someone asks for :meth:`YNode.to_python`, which is bounded.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Iterator

import yaml

from dify_lsp.i18n import msg
from dify_lsp.textpos import Pos, Span, common_prefix, common_suffix

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
        for p in self.pairs:  # key_text inlined: rules ask this for every parameter of every tool
            k = p.key
            if k.__class__ is YScalar and k.raw == key:  # type: ignore[attr-defined]
                return p
        return None

    def get(self, key: str) -> YNode | None:
        for p in self.pairs:
            k = p.key
            if k.__class__ is YScalar and k.raw == key:  # type: ignore[attr-defined]
                return p.value
        return None

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
    # After a partial re-parse that added or removed lines: id(list item) -> (that item, the item of the
    # last parse it is a copy of, the lines it moved by), for the list items on the way to the edit.
    moved: dict[int, tuple[YNode, YNode, int]] = field(default_factory=dict, repr=False, compare=False)

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

    def __init__(self, track_aliases: bool = True, line_offset: int = 0) -> None:
        self.memo: dict[int, YNode] = {}
        self.duplicates: list[tuple[YPair, YPair]] = []
        self.aliases = 0
        # Without a '*' in the text there is no alias, so no node is reached twice.
        self.track_aliases = track_aliases
        self.line_offset = line_offset  # a fragment's first line in the whole text
        # (fragment end, where the next token is in the whole text): marks at a fragment's end that
        # libyaml takes from the token after the node (block collection ends, empty values)
        self.end_at: tuple[Pos, Pos] | None = None

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
        off = self.line_offset
        span = _tuple_new(Span, (_tuple_new(Pos, (s.line + off, s.column)), _tuple_new(Pos, (e.line + off, e.column))))
        cls = node.__class__
        if self.end_at is not None:
            span = self._placed(span, cls is _ScalarNode and node.style in ("|", ">"))
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


    def _placed(self, span: Span, block_scalar: bool) -> Span:
        """A fragment's span as the whole text has it: a block scalar ends after its own line breaks,
        anything else ending (or, empty, starting) at the fragment's end is at the next token."""
        end, there = self.end_at  # type: ignore[misc]
        start, stop = span
        if start == end:
            start = there
        if stop == end and not block_scalar:
            stop = there
        return _tuple_new(Span, (start, stop))


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


# How the texts given to parse_yaml / reparse_yaml were parsed: "full" or "partial" (only the
# edited part).  For tests and profiles.
PARSE_COUNTS = {"full": 0, "partial": 0}


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document with positions; never raises."""
    PARSE_COUNTS["full"] += 1
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


# -- re-parsing after an edit -----------------------------------------------------------------
#
# A block collection's elements (a mapping's pairs, a list's items) each start a line at the
# collection's column, and one element's text never reaches into the next one's lines. So after an
# edit inside one element, parsing that element's lines alone (with the text before its column
# blanked, e.g. the `- ` of the list item holding it) gives the same nodes a parse of the whole text
# would, but for two things the surrounding text decides: line numbers (offset by the element's first
# line) and where a collection ending with the element ends (at the next token after it, which the
# fragment does not have).  Everything outside the element is the old parse, moved down when the edit
# added or removed lines.


def reparse_yaml(old_text: str, old_doc: YamlDocument, text: str) -> YamlDocument:
    """``parse_yaml(text)`` where ``old_doc`` is ``parse_yaml(old_text)``: when the edit from
    ``old_text`` to ``text`` stays inside one element of a block collection, only that element is
    parsed again and the rest of ``old_doc`` is kept (shifted when lines were added or removed).
    The result equals a full parse; anything the shortcut cannot be sure of is parsed in full."""
    if old_doc.root is not None and old_doc.error is None and not old_doc.duplicate_keys and not old_doc.alias_count:
        try:
            doc = _reparse_element(old_text, old_doc.root, text)
        except (RecursionError, MemoryError, ValueError, yaml.YAMLError):
            doc = None
        if doc is not None:
            PARSE_COUNTS["partial"] += 1
            return doc
    return parse_yaml(text)


# libyaml also breaks lines at NEL, LS and PS and counts \r\n as one break: with any of them, its
# line numbers are not the text's "\n" lines.  A %TAG directive changes what tags in a fragment mean.
_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029", "\ufeff")
# A document marker or directive inside a fragment: the whole text is another stream of documents.
_MARKERS = ("\n---", "\n...", "\n%")


def _plain_layout(text: str) -> bool:
    return not text.startswith("%") and not any(s in text for s in _OTHER_BREAKS)


# `&name` where a node may start (not `a&b` in a URL, not `Tom & Jerry`).
_ANCHOR = re.compile(r"(?:^|[\s,\[\]{}])&[^\s,\[\]{}]")
_COLLECTION_TAGS = {YMap: "tag:yaml.org,2002:map", YSeq: "tag:yaml.org,2002:seq"}


def _line_starts(text: str) -> list[int]:
    return list(accumulate(map((1).__add__, map(len, text.split("\n"))), initial=0))[:-1]


def _stream_end(text: str, line_offset: int = 0) -> Pos:
    """Where libyaml puts the end of ``text``: at the start of the line after the last one that holds anything."""
    lines = text.count("\n") + line_offset
    return _tuple_new(Pos, (lines + 1 if text and text[-1] != "\n" else lines, 0))


def _only_indicators(prefix: str) -> bool:
    """The text before an element on its first line: indentation, and the `- ` of outer list items."""
    return not prefix.strip(" -")


@dataclass(slots=True)
class _Level:
    """One block collection on the way down to the edit, and its element holding the whole edit."""

    collection: YNode
    index: int
    depth: int  # of the collection
    first: int  # the element's first line
    after: int  # the line after its text (where the next element starts, or the text ends)
    col: int  # the collection's column
    next_token: Pos | None  # where the token after the element starts; None: at the end of the text


def _reparse_element(old: str, root: YNode, new: str) -> YamlDocument | None:
    if not (_plain_layout(new) and _plain_layout(old)):
        return None
    len0, len1 = len(old), len(new)
    p = common_prefix(old, new)
    q0 = len0 - common_suffix(old, new, min(len0, len1) - p)  # the edit replaced old[p:q0]
    starts = _line_starts(old)
    nlines = len(starts)
    old_end = _stream_end(old)
    if root.span.end != old_end:
        return None
    pl = bisect_right(starts, p) - 1
    # Text inserted at a line start may end the element above as well as start the one below.
    for line in (pl - 1, pl) if p == q0 and p == starts[pl] and pl else (pl,):
        levels = _levels(old, root, starts, p, q0, line)
        # The innermost element first; an edit that changed its shape (a key added, a line dedented)
        # parses as the collection around it.  An element of most of a large text is not worth it: a full
        # parse is as quick.
        for k in range(len(levels) - 1, -1, -1):
            lv = levels[k]
            off_a = starts[lv.first]
            off_b = starts[lv.after] if lv.after < nlines else len0
            if off_b - off_a > 4096 and (off_b - off_a) * 4 > len0:
                break
            doc = _replace_element(old, new, levels[: k + 1], off_a, off_b, old_end)
            if doc is not None:
                return doc
    return None


def _levels(old: str, root: YNode, starts: list[int], p: int, q0: int, pl: int) -> list[_Level]:
    """From the root down, the elements of block collections that hold the whole edit (old[p:q0])."""
    nlines, len0 = len(starts), len(old)
    levels: list[_Level] = []
    node, depth = root, 0
    after_limit = nlines  # the line after the current element's text (the whole text at the root)
    next_token: Pos | None = None
    while True:
        cls = node.__class__
        if cls is YMap:
            keys = [pair.key for pair in node.pairs]  # type: ignore[attr-defined]
            if not keys or any(k.__class__ is not YScalar for k in keys):
                break
            lines = [k.span.start.line for k in keys]
        elif cls is YSeq:
            items = node.items  # type: ignore[attr-defined]
            if not items:
                break
            lines = [i.span.start.line for i in items]
        else:
            break
        col = node.span.start.col
        if old[starts[node.span.start.line] + col] in "[{":
            break  # a flow collection
        j = bisect_right(lines, pl) - 1
        if j < 0:
            break
        first = lines[j]
        last = j + 1 == len(lines)
        after = after_limit if last else lines[j + 1]
        if after <= first or p < starts[first] + col or q0 > (starts[after] if after < nlines else len0):
            break
        # Each boundary line starts its element at the collection's column, after nothing but indentation.
        ok = True
        for line, index in ((first, j), (None if last else after, j + 1)):
            if line is None or not ok:
                continue
            if not _only_indicators(old[starts[line] : starts[line] + col]):
                ok = False
            elif cls is YMap:
                ok = keys[index].span.start == (line, col)
            else:
                ok = old[starts[line] + col] == "-"
        if not ok:
            break
        if not last:
            next_token = _tuple_new(Pos, (after, col))
        levels.append(_Level(node, j, depth, first, after, col, next_token))
        after_limit = after
        node = node.pairs[j].value if cls is YMap else node.items[j]  # type: ignore[attr-defined]
        depth += 1
    return levels


def _replace_element(old: str, new: str, chain: list[_Level], off_a: int, off_b: int, old_end: Pos) -> YamlDocument | None:
    """The old parse with the element of ``chain[-1]`` parsed again from the new text; None when the
    new text of that element is not one element of the same kind at the same place."""
    lv = chain[-1]
    a, b, c = lv.first, lv.after, lv.col
    container, j = lv.collection, lv.index
    frag = " " * c + new[off_a + c : off_b + (len(new) - len(old))]
    if frag[c : c + 1] in ("[", "{", "") or frag.startswith(("---", "...", "%")) or any(m in frag for m in _MARKERS):
        return None
    if off_b < len(old) and frag[-1] != "\n":
        return None  # the edit joined the next element's line to this one
    if _ANCHOR.search(frag):
        return None  # an anchor may repeat one elsewhere (an error only the whole text shows)
    delta = frag.count("\n") - old.count("\n", off_a, off_b)
    loader = _FastLoader(frag)
    try:
        top = loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    if top is None:
        return None
    new_end = _stream_end(new)

    def moved(pos: Pos) -> Pos | None:
        if pos == old_end:
            return new_end
        if pos.line >= b:
            return _tuple_new(Pos, (pos.line + delta, pos.col)) if delta else pos
        if pos.line < a:
            return pos
        return None

    # What ends where the fragment ends (the collections ending with the element, an empty value
    # with no text of its own) is placed, in the whole text, where the next token starts.
    frag_end = _stream_end(frag, a)
    target = frag_end
    if lv.next_token is not None:
        target = moved(lv.next_token)
        if target is None:
            return None
    conv = _Converter(track_aliases="*" in frag, line_offset=a)
    if target != frag_end:
        conv.end_at = (frag_end, target)
    try:
        part = conv.convert(top, lv.depth)
    except YamlTooLarge:
        return None
    if conv.duplicates or conv.aliases or part.__class__ is not container.__class__ or part.span.start != (a, c):
        return None
    if part.tag != _COLLECTION_TAGS[part.__class__] or part.span.end != target:
        return None  # a tag before the element: in the whole text it would belong to the element, or be an error
    if part.__class__ is YMap:
        if len(part.pairs) != 1:  # type: ignore[attr-defined]
            return None
        element: YNode | YPair = part.pairs[0]  # type: ignore[attr-defined]
        key = element.key  # type: ignore[union-attr]
        if key.__class__ is not YScalar or key.span.start != (a, c):
            return None
        old_key = container.pairs[j].key  # type: ignore[attr-defined]
        if key.raw != old_key.raw and any(pair.key.raw == key.raw for pair in container.pairs):  # type: ignore[attr-defined]
            return None  # the edit made a duplicate key
    else:
        if len(part.items) != 1:  # type: ignore[attr-defined]
            return None
        element = part.items[0]  # type: ignore[attr-defined]

    # The collections holding the element, rebuilt from the innermost out; their other elements are kept
    # (so are the keys of the pairs on the way down: they come before the edit).
    replacement: YNode | YPair = element
    copies: dict[int, tuple[YNode, YNode, int]] = {}
    for level in range(len(chain) - 1, -1, -1):
        container, j = chain[level].collection, chain[level].index
        end = moved(container.span.end)
        if end is None:
            return None
        span = _tuple_new(Span, (container.span.start, end))
        if container.__class__ is YMap:
            pairs = container.pairs  # type: ignore[attr-defined]
            after = pairs[j + 1 :] if not delta else [YPair(_shifted(pr.key, delta), _shifted(pr.value, delta)) for pr in pairs[j + 1 :]]
            rebuilt: YNode = YMap(span, container.tag, [*pairs[:j], replacement, *after])
        else:
            items = container.items  # type: ignore[attr-defined]
            after = items[j + 1 :]
            if delta:
                after = [_shifted(i, delta) for i in after]
                copies.update((id(new), (new, old, delta)) for new, old in zip(after, items[j + 1 :]))
            rebuilt = YSeq(span, container.tag, [*items[:j], replacement, *after])
        if level:
            parent = chain[level - 1]
            replacement = YPair(parent.collection.pairs[parent.index].key, rebuilt) if parent.collection.__class__ is YMap else rebuilt  # type: ignore[attr-defined]
        else:
            replacement = rebuilt
    return YamlDocument(replacement, None, [], 0, copies)  # type: ignore[arg-type]


def shifted_span(span: Span, delta: int) -> Span:
    """``span`` ``delta`` lines further down."""
    (sl, sc), (el, ec) = span
    return _tuple_new(Span, (_tuple_new(Pos, (sl + delta, sc)), _tuple_new(Pos, (el + delta, ec))))


def same_places(old: YNode, new: YNode) -> dict[int, YNode]:
    """id(node) -> node of ``new`` at the same place in ``old``'s tree (``new`` is a moved copy of it)."""
    out: dict[int, YNode] = {id(old): new}
    if old.__class__ is YMap:
        for a, b in zip(old.pairs, new.pairs):  # type: ignore[attr-defined]
            out.update(same_places(a.key, b.key))
            out.update(same_places(a.value, b.value))
    elif old.__class__ is YSeq:
        for a, b in zip(old.items, new.items):  # type: ignore[attr-defined]
            out.update(same_places(a, b))
    return out


def _shifted(node: YNode, delta: int) -> YNode:
    """A copy of ``node`` ``delta`` lines further down (the parse has no aliases: it is a tree).  Runs for
    every node after an edit that added or removed lines, so a mapping's scalar keys and values are copied
    in its loop."""
    (sl, sc), (el, ec) = node.span
    span = _tuple_new(Span, (_tuple_new(Pos, (sl + delta, sc)), _tuple_new(Pos, (el + delta, ec))))
    cls = node.__class__
    if cls is YScalar:
        return YScalar(span, node.tag, node.value, node.raw, node.style)  # type: ignore[attr-defined]
    if cls is YSeq:
        return YSeq(span, node.tag, [_shifted(i, delta) for i in node.items])  # type: ignore[attr-defined]
    pairs: list[YPair] = []
    append = pairs.append
    for pair in node.pairs:  # type: ignore[attr-defined]
        k, v = pair.key, pair.value
        if k.__class__ is YScalar:
            (a, b), (c, e) = k.span
            k = YScalar(_tuple_new(Span, (_tuple_new(Pos, (a + delta, b)), _tuple_new(Pos, (c + delta, e)))), k.tag, k.value, k.raw, k.style)  # type: ignore[attr-defined]
        else:
            k = _shifted(k, delta)
        if v.__class__ is YScalar:
            (a, b), (c, e) = v.span
            v = YScalar(_tuple_new(Span, (_tuple_new(Pos, (a + delta, b)), _tuple_new(Pos, (c + delta, e)))), v.tag, v.value, v.raw, v.style)  # type: ignore[attr-defined]
        else:
            v = _shifted(v, delta)
        append(YPair(k, v))
    return YMap(span, node.tag, pairs)
