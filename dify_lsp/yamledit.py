"""Minimal, formatting-preserving edits to block-style YAML.

Used by quick fixes that add keys (e.g. missing manifest permissions): the
new lines go right after the last line of the mapping they belong to, at that
mapping's indentation, so comments, key order and the rest of the file stay
exactly as they were.  Flow-style mappings (``{a: 1}``) are left alone:
there is no certain way to edit them that a person would write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dify_lsp.findings import TextEdit
from dify_lsp.textpos import LineIndex, Pos, Span
from dify_lsp.yamlpos import YMap, YNode, YScalar, YSeq

INDENT_STEP = 2


def _last_pos(node: YNode) -> Pos:
    """End of the last real content inside a node (not the next token)."""
    if isinstance(node, YMap) and node.pairs:
        return _last_pos(node.pairs[-1].value) if not _is_empty(node.pairs[-1].value) else node.pairs[-1].key.span.end
    if isinstance(node, YSeq) and node.items:
        return _last_pos(node.items[-1])
    return node.span.end


def _is_empty(node: YNode) -> bool:
    return isinstance(node, YScalar) and node.value is None and node.raw == ""


def _indent(node: YMap) -> int:
    return node.pairs[0].key.span.start.col if node.pairs else 0


def _is_flow(text_index: LineIndex, node: YNode) -> bool:
    line = text_index.line_text(node.span.start.line)
    return line[node.span.start.col : node.span.start.col + 1] in ("{", "[")


def _render(tree: dict[str, Any], indent: int) -> str:
    out = []
    for key, value in tree.items():
        if isinstance(value, dict):
            out.append(" " * indent + f"{key}:\n" + _render(value, indent + INDENT_STEP))
        else:
            out.append(" " * indent + f"{key}: {value}\n")
    return "".join(out)


def _insert_after(path: Path, index: LineIndex, node: YMap, block: str) -> TextEdit:
    end = _last_pos(node)
    line = end.line + 1
    if line >= index.line_count or (line == index.line_count - 1 and index.line_text(line) == "" and not index.text.endswith("\n")):
        # at the end of the file
        pos = index.pos(len(index.text))
        prefix = "" if index.text.endswith("\n") else "\n"
        return TextEdit(path, Span(pos, pos), prefix + block)
    pos = Pos(line, 0)
    return TextEdit(path, Span(pos, pos), block)


def ensure_true(path: Path, text: str, root: YNode | None, base: tuple[str, ...], flags: list[tuple[str, str]]) -> list[TextEdit] | None:
    """Edits that make ``base.<group>.<key>: true`` hold for every flag.

    ``base`` is the path of the mapping holding the groups, e.g.
    ("resource", "permission").  Returns None when no certain edit exists.
    """
    if not isinstance(root, YMap):
        return None
    index = LineIndex(text)
    wanted: dict[str, list[str]] = {}
    for group, key in flags:
        wanted.setdefault(group, [])
        if key not in wanted[group]:
            wanted[group].append(key)

    # Walk down base as far as it exists.
    node: YMap = root
    depth = 0
    for key in base:
        child = node.get(key)
        if isinstance(child, YMap):
            if _is_flow(index, child):
                return None
            node, depth = child, depth + 1
            continue
        if child is not None and not _is_empty(child):
            return None  # a scalar or list where a mapping belongs: not certain
        break

    edits: list[TextEdit] = []
    if depth == len(base):
        missing_groups: dict[str, Any] = {}
        for group, keys in wanted.items():
            gnode = node.get(group)
            if isinstance(gnode, YMap):
                if _is_flow(index, gnode):
                    return None
                new_keys: dict[str, Any] = {}
                for key in keys:
                    pair = gnode.pair(key)
                    if pair is None:
                        new_keys[key] = "true"
                    elif not (isinstance(pair.value, YScalar) and pair.value.value is True):
                        if _is_empty(pair.value):
                            end = pair.key.span.end
                            edits.append(TextEdit(path, Span(end, Pos(end.line, end.col + 1)), ": true"))
                        elif isinstance(pair.value, YScalar):
                            edits.append(TextEdit(path, pair.value.span, "true"))
                        else:
                            return None
                if new_keys:
                    edits.append(_insert_after(path, index, gnode, _render(new_keys, _indent(gnode))))
            elif gnode is None or _is_empty(gnode):
                if gnode is not None:
                    return None  # `model:` with nothing after it: leave to the person
                missing_groups[group] = {k: "true" for k in keys}
            else:
                return None
        if missing_groups:
            edits.append(_insert_after(path, index, node, _render(missing_groups, _indent(node))))
        return edits

    # Part of base is missing: build it under the deepest existing mapping.
    tree: dict[str, Any] = {g: {k: "true" for k in ks} for g, ks in wanted.items()}
    for key in reversed(base[depth:]):
        tree = {key: tree}
    empty_pair = node.pair(base[depth])
    if empty_pair is not None:
        return None  # `permission:` present but empty: leave to the person
    if node is root:
        return [_insert_after(path, index, node, _render(tree, 0))]
    return [_insert_after(path, index, node, _render(tree, _indent(node)))]


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """Apply non-overlapping edits (engine positions) to a text; used by tests and the CLI."""
    index = LineIndex(text)
    ordered = sorted(edits, key=lambda e: (e.span.start, e.span.end), reverse=True)
    for e in ordered:
        a, b = index.offset(e.span.start), index.offset(e.span.end)
        text = text[:a] + e.new_text + text[b:]
    return text


# -- block sequences (a parameter, a listed tool) ---------------------------------------------------------------


def _dash_col(index: LineIndex, item: YNode) -> int | None:
    """Column of the ``-`` that starts a block-sequence item (None: not written as ``- item`` on its line)."""
    before = index.line_text(item.span.start.line)[: item.span.start.col].rstrip()
    return len(before) - 1 if before.endswith("-") else None


def _item_block(item: str, dash_col: int) -> str:
    """``item`` (YAML text, unindented, several lines allowed) as a sequence item at ``dash_col``."""
    lines = item.rstrip("\n").split("\n")
    pad = " " * (dash_col + 2)
    return "".join([" " * dash_col + "- " + lines[0] + "\n", *(pad + line + "\n" if line else "\n" for line in lines[1:])])


def append_item(path: Path, text: str, holder: YMap, key: str, item: str) -> list[TextEdit] | None:
    """Edits that append ``item`` to the block sequence ``holder[key]``, creating the key when it is missing.

    The new item takes the indentation of the items already there (or two more than the key's).
    None when there is no certain edit (a flow sequence with items, a scalar, a flow mapping).
    """
    index = LineIndex(text)
    if _is_flow(index, holder) and holder.pairs:
        return None
    pair = holder.pair(key)
    if pair is None:
        block = " " * _indent(holder) + f"{key}:\n" + _item_block(item, _indent(holder) + INDENT_STEP)
        if not holder.pairs:
            return None
        return [_insert_after(path, index, holder, block)]
    key_col = pair.key.span.start.col
    value = pair.value
    if isinstance(value, YSeq) and value.items:
        if _is_flow(index, value):
            return None
        dash = _dash_col(index, value.items[0])
        if dash is None:
            return None
        return [_insert_after(path, index, value, _item_block(item, dash))]  # type: ignore[arg-type]
    block = _item_block(item, key_col + INDENT_STEP)
    empty_list = isinstance(value, YSeq) and not value.items and value.span.start.line == value.span.end.line
    if not (_is_empty(value) or (isinstance(value, YScalar) and value.value is None) or empty_list):
        return None
    if value.span.end.line != pair.key.span.end.line:
        return None
    edits: list[TextEdit] = []
    if not _is_empty(value):  # `key: null`, `key: ~`, `key: []`: the value goes, with the space before it
        key_end = pair.key.span.end
        colon = index.line_text(key_end.line)[key_end.col : key_end.col + 1] == ":"
        edits.append(TextEdit(path, Span(Pos(key_end.line, key_end.col + 1) if colon else value.span.start, value.span.end), ""))
    line = pair.key.span.end.line + 1
    if line < index.line_count:
        edits.append(TextEdit(path, Span(Pos(line, 0), Pos(line, 0)), block))
    else:
        end = index.pos(len(text))
        edits.append(TextEdit(path, Span(end, end), "\n" + block))
    return edits


def remove_item(path: Path, text: str, seq: YSeq, item: YNode) -> TextEdit | None:
    """An edit that deletes one item of a block sequence, whole lines (its trailing comments go with it)."""
    index = LineIndex(text)
    if _is_flow(index, seq) or _dash_col(index, item) is None:
        return None
    i = seq.items.index(item)
    start = Pos(item.span.start.line, 0)
    if i + 1 < len(seq.items):
        end = Pos(seq.items[i + 1].span.start.line, 0)
    else:
        last = _last_pos(item)
        end = Pos(last.line + 1, 0) if last.line + 1 < index.line_count else index.pos(len(text))
    if len(seq.items) == 1:
        return None  # the key would be left with no value: leave it to the person
    return TextEdit(path, Span(start, end), "")


def _entry_block(entry_key: str, body: str, indent: int) -> str:
    pad = " " * (indent + INDENT_STEP)
    lines = [line for line in body.rstrip("\n").split("\n")]
    return " " * indent + f"{entry_key}:\n" + "".join(pad + line + "\n" if line else "\n" for line in lines)


def add_entry(path: Path, text: str, holder: YMap, key: str, entry_key: str, body: str) -> list[TextEdit] | None:
    """Edits that add ``entry_key:`` holding ``body`` (a block mapping, unindented) to the block mapping
    ``holder[key]``, creating ``key`` when it is missing.  None when there is no certain edit."""
    index = LineIndex(text)
    if _is_flow(index, holder) and holder.pairs:
        return None
    pair = holder.pair(key)
    if pair is None:
        if not holder.pairs:
            return None
        block = " " * _indent(holder) + f"{key}:\n" + _entry_block(entry_key, body, _indent(holder) + INDENT_STEP)
        return [_insert_after(path, index, holder, block)]
    value = pair.value
    if isinstance(value, YMap) and value.pairs:
        if _is_flow(index, value):
            return None
        return [_insert_after(path, index, value, _entry_block(entry_key, body, _indent(value)))]
    empty_map = isinstance(value, YMap) and not value.pairs and value.span.start.line == value.span.end.line
    if not (_is_empty(value) or (isinstance(value, YScalar) and value.value is None) or empty_map):
        return None
    if value.span.end.line != pair.key.span.end.line:
        return None
    edits: list[TextEdit] = []
    if not _is_empty(value):  # `key: null`, `key: ~`, `key: {}`
        key_end = pair.key.span.end
        colon = index.line_text(key_end.line)[key_end.col : key_end.col + 1] == ":"
        edits.append(TextEdit(path, Span(Pos(key_end.line, key_end.col + 1) if colon else value.span.start, value.span.end), ""))
    block = _entry_block(entry_key, body, pair.key.span.start.col + INDENT_STEP)
    line = pair.key.span.end.line + 1
    if line < index.line_count:
        edits.append(TextEdit(path, Span(Pos(line, 0), Pos(line, 0)), block))
    else:
        end = index.pos(len(text))
        edits.append(TextEdit(path, Span(end, end), "\n" + block))
    return edits
