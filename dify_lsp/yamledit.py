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
