"""Where the cursor is in a plugin YAML file, guessed from the text lines.

Completion must work on half-typed YAML that does not parse (the user is
typing ``  ty`` on a new line), so the key path at the cursor is derived
from indentation alone: walk up from the cursor's line to the lines with
less indentation that open a mapping (``key:``) or a list item (``- ``).
The same guess serves hover, so both agree on what a key means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, eq, mul, not_, or_, sub
from typing import TYPE_CHECKING

from dify_lsp.textpos import common_prefix, common_suffix, text_of_lines

if TYPE_CHECKING:  # pragma: no cover
    from dify_lsp.caches import Caches

_KEY_RE = re.compile(r"""^(?P<key>[A-Za-z0-9_\-\[\]&.$]+|"[^"]*"|'[^']*')\s*:(?:\s+(?P<value>.*?))?\s*$""")


@dataclass(slots=True)
class Cursor:
    path: list[str | int]  # keys (str) and list items (int) from the root to the mapping / list at the cursor
    in_key: bool  # typing a key (else a value)
    key: str | None  # the key whose value is being typed
    prefix: str  # the text typed so far (key or value)
    prefix_col: int  # column where ``prefix`` starts
    indent: int  # column of keys in the mapping at the cursor
    list_item: bool  # the cursor's line is a ``- `` list item
    siblings: dict[str, str] = field(default_factory=dict)  # key -> raw value of the mapping at the cursor


def _strip_comment(s: str) -> str:
    if "#" not in s:
        return s
    out, quote = [], None
    for i, ch in enumerate(s):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or s[i - 1] in " \t"):
            break
        out.append(ch)
    return "".join(out)


def _split(line: str) -> tuple[int, bool, int, str]:
    """(indent, is_dash, content column, content) of one line."""
    stripped = line.lstrip(" ")
    indent = len(line) - len(stripped)
    dash = stripped.startswith("- ") or stripped == "-"
    if dash:
        rest = stripped[1:]
        content = rest.lstrip(" ")
        return indent, True, indent + 1 + (len(rest) - len(content)), content
    return indent, False, indent, stripped


def _key_of(content: str) -> tuple[str, str | None] | None:
    m = _KEY_RE.match(_strip_comment(content).rstrip())
    if not m:
        return None
    key = m.group("key").strip("\"'")
    return key, m.group("value")


class _Outline:
    """The lines of one text version as the upward walk of :func:`cursor_at` sees them, to pass over the
    lines that cannot matter without looking at each: per line one byte, twice its indentation (plus one
    for a list item, whose content starts further right), 255 for a blank or comment line."""

    __slots__ = ("lines", "text", "codes", "_marks")

    def __init__(self, lines: list[str], text: str | None, codes: bytes) -> None:
        self.lines = lines
        self.text = text
        self.codes = codes
        self._marks: dict[int, bytes] = {}  # limit -> per line 1 where the code is at most the limit, else 0

    def above(self, line: int, column: int) -> int:
        """The nearest line above ``line`` whose content may start at or left of ``column`` (-1: none):
        a line indented past it, or a list item indented up to it (its content is past it), never is."""
        limit = 2 * column
        if limit >= 254:  # indentation this deep is not told apart in a byte: look at every line
            return line - 1
        marks = self._marks.get(limit)
        if marks is None:
            marks = self._marks[limit] = self.codes.translate(_at_most(limit))
        return marks.rfind(1, 0, line)


_AT_MOST: dict[int, bytes] = {}


def _at_most(limit: int) -> bytes:
    """The bytes.translate table marking the codes up to ``limit`` with 1, the others with 0."""
    table = _AT_MOST.get(limit)
    if table is None:
        table = _AT_MOST[limit] = bytes(1 if code <= limit else 0 for code in range(256))
    return table


def outline_codes(lines: list[str]) -> bytes:
    """The :class:`_Outline` bytes of ``lines`` (C-level maps: no Python code runs per line)."""
    stripped = list(map(str.lstrip, lines, repeat(" ")))
    doubled = map(mul, map(sub, map(len, lines), map(len, stripped)), repeat(2))
    items = map(or_, map(str.startswith, stripped, repeat("- ")), map(eq, stripped, repeat("-")))
    skipped = map(or_, map(not_, map(str.strip, lines)), map(str.startswith, map(str.lstrip, lines), repeat("#")))
    return bytes(map(max, map(min, map(add, doubled, items), repeat(254)), map(mul, skipped, repeat(255))))


OUTLINE_COUNTS = {"full": 0, "updated": 0}  # how outlines were made (for tests and profiles)


def _outline(lines: list[str], caches: Caches | None) -> _Outline:
    """The outline of ``lines``.  With ``caches`` (the index's), made once per list of lines (one document
    version's, see textpos.text_lines), and after an edit from the last version's outline with only the
    edited lines redone."""
    if caches is None:
        return _Outline(lines, None, outline_codes(lines))
    store = caches.outlines
    known = store.get(id(lines))
    if known is not None and known.lines is lines:
        return known
    text = text_of_lines(lines, caches.document_lines)
    latest = store.get("latest")
    codes = _updated(latest, text, lines) if latest is not None and text is not None and latest.text is not None else None
    if codes is None:
        codes = outline_codes(lines)
        OUTLINE_COUNTS["full"] += 1
    else:
        OUTLINE_COUNTS["updated"] += 1
    outline = _Outline(lines, text, codes)
    store.put(id(lines), outline)
    store.put("latest", outline)
    return outline


def _updated(last: _Outline, text: str, lines: list[str]) -> bytes | None:
    """``outline_codes(lines)`` from ``last``, the outline of another version of the same text: the lines
    before and after the edit keep their bytes.  None when the texts share too little for it to pay."""
    old = last.text
    assert old is not None
    p = common_prefix(old, text)
    s = common_suffix(old, text, min(len(old), len(text)) - p)
    if (len(text) - s - p) * 2 > len(text):
        return None
    first = old.count("\n", 0, p)  # the first line the edit touched
    old_last = first + old.count("\n", p, len(old) - s)  # its last line, before and after the edit
    new_last = first + text.count("\n", p, len(text) - s)
    codes = last.codes[:first] + outline_codes(lines[first : new_last + 1]) + last.codes[old_last + 1 :]
    return codes if len(codes) == len(lines) else None


def cursor_at(lines: list[str], line: int, col: int, caches: Caches | None = None) -> Cursor:
    """Where ``(line, col)`` is; ``caches`` (the index's) keeps what is worked out once per document version."""
    text = lines[line][:col] if line < len(lines) else ""
    indent, dash, ccol, content = _split(text)
    path: list[str | int] = []
    in_key = True
    key: str | None = None
    prefix = content
    prefix_col = ccol
    if ":" in _strip_comment(content):
        k, _, rest = content.partition(":")
        if k.strip() and (rest == "" or rest[0] in " \t"):
            in_key = False
            key = k.strip().strip("\"'")
            stripped_rest = rest.lstrip()
            prefix = stripped_rest
            prefix_col = col - len(stripped_rest)
    if not text.strip() and line < len(lines):
        # An empty line: the mapping is given by the cursor column.
        indent, ccol = col, col
    target = ccol
    need_owner = False
    if dash:
        path.append(0)
        target = indent
        need_owner = True
    siblings: dict[str, str] = {}
    collect = not dash
    outline = _outline(lines, caches)
    i = min(line, len(lines))
    while True:
        # A line whose content starts past the column looked for is inside a sibling: it decides nothing
        # (in a long list of tool parameters that is almost every line above the cursor).
        i = outline.above(i, target)
        if i < 0:
            break
        raw = lines[i]
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        li, is_dash, lcol, lcontent = _split(raw)
        if lcol > target:
            continue
        kv = _key_of(lcontent)
        if collect and lcol == target and kv is not None:
            siblings.setdefault(kv[0], (kv[1] or "").strip())
        if is_dash and lcol == target and not need_owner:
            # The mapping we are in is a list item.
            path.append(0)
            target = li
            need_owner = True
            collect = False
            continue
        if need_owner:
            if (lcol < target or (lcol == target and not is_dash)) and kv is not None and not kv[1]:
                path.append(kv[0])
                target = lcol
                need_owner = False
                if is_dash:
                    path.append(0)
                    target = li
                    need_owner = True
                continue
            if lcol < target:
                break  # not valid YAML structure; stop guessing
            continue
        if lcol < target:
            if kv is not None and not kv[1]:
                path.append(kv[0])
                target = lcol
                collect = False
                if is_dash:
                    path.append(0)
                    target = li
                    need_owner = True
                continue
            break
    # Siblings below the cursor, until the mapping ends.
    if not dash:
        for raw in lines[line + 1 :]:
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            li, is_dash, lcol, lcontent = _split(raw)
            if lcol < ccol or (is_dash and li < ccol):
                break
            if lcol == ccol and not is_dash:
                kv = _key_of(lcontent)
                if kv is not None:
                    siblings.setdefault(kv[0], (kv[1] or "").strip())
    else:
        # A list item's own mapping: keys on the same item below.
        for raw in lines[line + 1 :]:
            if not raw.strip():
                continue
            li, is_dash, lcol, lcontent = _split(raw)
            if lcol != ccol or is_dash:
                break
            kv = _key_of(lcontent)
            if kv is not None:
                siblings.setdefault(kv[0], (kv[1] or "").strip())
    path.reverse()
    if in_key and prefix and _key_of(prefix) is None and prefix.endswith(":"):
        prefix = prefix[:-1]
    return Cursor(path, in_key, key, prefix, prefix_col, ccol, dash, siblings)


def word_at(line_text: str, col: int) -> tuple[int, int] | None:
    """The span (start, end columns) of the YAML word under the cursor."""
    allowed = re.compile(r"[A-Za-z0-9_\-\[\]&./$]")
    if not line_text:
        return None
    start = col
    while start > 0 and allowed.match(line_text[start - 1]):
        start -= 1
    end = col
    while end < len(line_text) and allowed.match(line_text[end]):
        end += 1
    if start == end:
        return None
    return start, end
