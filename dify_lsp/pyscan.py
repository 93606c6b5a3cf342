"""What plugin Python code does with the SDK, found by reading it (never importing it).

Two strategies:

* :func:`scan` parses a whole file (tolerantly: lines that do not parse are
  blanked or replaced until the rest does) and finds every session chain
  (``self.session.model.llm.invoke(...)``, also through simple aliases such as
  ``m = self.session.model``), every call into the catalog with its arguments,
  the ``tool_parameters`` reads of each ``_invoke``, constant-key reads of
  ``credentials`` / ``settings`` / ``parameters`` mappings, ``print()`` calls to
  stdout outside ``if __name__ == "__main__":``, the classes with their bases
  (and whether they are import-guard stand-ins), and every import.  A session
  chain records where its session comes from (``self.session``,
  ``self.runtime.session``, a parameter annotated with the SDK's ``Session``,
  ``get_current_session()``, or an SDK invocation object built from one); the
  rules decide, across modules, which of those are Dify's.  Results are cached
  per content.  Rules read :class:`Scan`.
* :func:`chain_at`, :func:`names_at` and :func:`call_at` read the chain being
  typed from the text before the cursor; a root name other than ``self.session``
  is resolved through the aliases that :func:`scan` finds in the function around
  the cursor (only that function is scanned, :func:`function_aliases_at`), so
  completion, hover and signature help follow exactly the aliases the rules
  follow, in about a millisecond whatever the file's size or state.

Nothing is stored on the syntax tree's nodes: what the scan works out about a
node is kept in tables of its own, keyed by the node.

Positions are engine positions (code points); ``ast`` byte offsets are converted.
"""

from __future__ import annotations

import ast
import bisect
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from dify_lsp.caches import Caches
from dify_lsp.sdk import catalog
from dify_lsp.sdk.catalog import Method, Resolved
from dify_lsp.textpos import Pos, Span

# -- data -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class SessionRef:
    """An attribute chain rooted at a session: ``self.session.model.llm`` -> names ('model', 'llm')."""

    names: tuple[str, ...]
    name_spans: tuple[Span | None, ...]  # the span of each name in ``names`` (None: written in an alias's definition)
    span: Span  # the whole expression
    root_text: str  # "self.session", "self.runtime.session" or an alias name
    class_name: str | None
    # The expression's syntax (what it is, the names in it); its line numbers may be those of an earlier text
    # of the file (see _Chunk): where it is, is ``span``.
    node: ast.expr = field(repr=False)
    # Where the session comes from: "self.session" / "self.runtime.session" (Dify's session only in a
    # subclass of an SDK plugin class that keeps it there, which the rules decide) or "param" (a parameter
    # annotated with the SDK's ``Session`` type), also when reached through an alias or an invocation object.
    root_kind: str = "self.session"


@dataclass(slots=True)
class Arg:
    keyword: str | None  # None: positional
    span: Span  # the value expression
    keyword_span: Span | None  # the keyword's name
    text: str  # the value's source text
    node: ast.expr = field(repr=False)  # its syntax; where it is, is ``span`` (as for SessionRef.node)
    starred: bool = False  # *args
    double_starred: bool = False  # **kwargs
    param_key: str | None = None  # the value is tool_parameters[<key>] (directly or via a local variable)
    config_key: str | None = None  # the value is SomeConfig(**tool_parameters[<key>]) (a wrapped model-selector value)
    dict_var: bool = False  # the value is a local variable only ever assigned a dict


@dataclass(slots=True)
class SessionCall:
    """A call of something reached from the session."""

    ref: SessionRef  # the callee chain
    args: list[Arg]
    span: Span
    resolved: Resolved | None  # what the callee is in the catalog (None: unknown)

    @property
    def method(self) -> Method | None:
        return self.resolved.member if self.resolved is not None and isinstance(self.resolved.member, Method) else None

    @property
    def wire(self) -> str | None:
        m = self.method
        return m.wire if m is not None else None

    def bind(self) -> dict[str, Arg]:
        """Arguments by parameter name (positional ones mapped in order)."""
        m = self.method
        out: dict[str, Arg] = {}
        if m is None:
            return out
        positional = m.positional
        i = 0
        for a in self.args:
            if a.starred or a.double_starred:
                continue
            if a.keyword is None:
                if i < len(positional):
                    out[positional[i].name] = a
                i += 1
            else:
                out.setdefault(a.keyword, a)
        return out


@dataclass(slots=True)
class ParamRead:
    key: str
    span: Span  # the string literal, quotes included
    inner: Span | None  # the text inside the quotes, when it maps 1:1 to the source
    how: str  # "get", "subscript" or "in"
    default: str | None = None  # source text of the default of ``.get(key, default)``
    # ``m.get("a") or m.get("b")``: the keys read before this one in the same ``or`` (this read is their fallback)
    fallback_after: tuple[str, ...] = ()
    guarded: bool = False  # a subscript only reached when ``"key" in m`` holds: it cannot raise KeyError


@dataclass(slots=True)
class KeyRead:
    """A constant-key read of a credentials / settings mapping inside a method of a class."""

    source: str  # "self.runtime.credentials", or "param:<name>" for a parameter of the method
    class_name: str  # "" for a function outside any class
    method: str
    read: ParamRead
    function: int = -1  # the reading function's index in Scan.functions


@dataclass(slots=True)
class InvokeParams:
    """How one ``_invoke`` method uses its parameters dict."""

    class_name: str
    param: str  # the parameter's name (tool_parameters, parameters, ...)
    param_span: Span
    name_span: Span  # the method's name
    reads: list[ParamRead] = field(default_factory=list)
    escapes: bool = False  # passed on / iterated / read with a non-constant key: reads are not all known


@dataclass(slots=True)
class ClassInfo:
    name: str
    name_span: Span
    bases: list[str]  # dotted source text of each base
    base_spans: list[Span]
    methods: list[str]
    assigns_session: bool  # assigns self.session itself
    top_level: bool = True  # bound in the module's namespace (not inside a function or another class)
    fallback: bool = False  # defined in an ``except ImportError`` handler: a stand-in used only when an import fails
    has_unknown_body: bool = False  # methods may come from elsewhere (class-level assignments, decorators, __getattr__)


@dataclass(frozen=True, slots=True)
class ImportInfo:
    """One import statement: ``import a.b`` -> (0, "a.b", ()); ``from ..x import y`` -> (2, "x", ("y",))."""

    level: int
    module: str
    names: tuple[str, ...]
    line: int  # 0-based


@dataclass(slots=True)
class FunctionInfo:
    """A function or method, and the names its code refers to (what it may call)."""

    name: str
    class_name: str | None  # the class it is a method of
    line: int  # 0-based, the ``def`` line
    parent: int | None  # index of the enclosing function in Scan.functions
    decorated: bool  # a decorator other than staticmethod / classmethod may register it to be called
    references: frozenset[str]  # names and attribute names it reads, and constant names given to getattr()
    dynamic: bool  # calls getattr() with a computed name: it may call any function of its module
    self_references: frozenset[str] = frozenset()  # attribute names it reads on ``self`` / ``cls``


@dataclass(slots=True)
class PrintCall:
    span: Span  # the ``print`` name
    function: int | None  # index of the enclosing function in Scan.functions (None: module-level code)
    guards: tuple[str, ...]  # names / attribute names tested by the ``if``s it is under (their true branch)


@dataclass(frozen=True, slots=True)
class FunctionScope:
    """The session aliases a function binds (what its session chains resolve through), by line range."""

    first_line: int  # 0-based, the ``def`` line
    last_line: int  # 0-based, inclusive
    aliases: dict[str, tuple[tuple[str, ...], str, str]]  # name -> (names after the session, root text, root kind)


@dataclass(slots=True)
class Scan:
    text: str
    parsed: bool  # False: not even the repaired text parses (nothing else was found)
    syntax_error: tuple[int, str] | None  # (0-based line, message) of the first error
    patched_lines: frozenset[int]  # lines blanked to get a parse
    classes: list[ClassInfo] = field(default_factory=list)
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name (absolute imports)
    relative_imports: dict[str, tuple[int, str, str | None]] = field(default_factory=dict)  # local -> (level, module, name)
    import_list: list[ImportInfo] = field(default_factory=list)
    refs: list[SessionRef] = field(default_factory=list)
    calls: list[SessionCall] = field(default_factory=list)
    invokes: list[InvokeParams] = field(default_factory=list)
    key_reads: list[KeyRead] = field(default_factory=list)
    session_escapes: list[SessionRef] = field(default_factory=list)  # the session (or an object under it) handed to other code
    mapping_escapes: set[tuple[str, str]] = field(default_factory=set)  # (class, source) whose mapping is passed on
    prints: list[PrintCall] = field(default_factory=list)  # print() to stdout, outside ``if __name__ == "__main__":``
    functions: list[FunctionInfo] = field(default_factory=list)
    module_references: set[str] = field(default_factory=set)  # names read by code run on import (module and class bodies)
    main_references: set[str] = field(default_factory=set)  # names read under ``if __name__ == "__main__":`` (run as a script only)
    # name -> whether every value the module gives it (``X = ...``, ``a.X = ...``) is a false constant; a name
    # also bound any other way (parameter, keyword argument, import, loop target) maps to False
    flag_stores: dict[str, bool] = field(default_factory=dict)
    module_imports: set[str] = field(default_factory=set)  # local names bound by imports run on import (not in a def / class)
    scopes: list[FunctionScope] = field(default_factory=list)  # every function's aliases (cursor features read them)
    import_insert_line: int = 0  # where a new import line goes
    # How many of the file's chunks (see _Chunk) were kept from the scan of an earlier text (0: all scanned)
    reused_chunks: int = field(default=0, compare=False)
    # The chunks this scan was assembled from, kept for the scan of the file's next text (None: not reusable)
    chunks: list[_Chunk] | None = field(default=None, repr=False, compare=False)

    def class_named(self, name: str) -> ClassInfo | None:
        for c in self.classes:
            if c.name == name:
                return c
        return None


# -- positions ---------------------------------------------------------------------------------------


class _Cols:
    def __init__(self, lines: list[str]):
        self.lines = lines

    def pos(self, lineno: int, byte_col: int) -> Pos:
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        if line.isascii():
            return Pos(lineno - 1, byte_col)
        return Pos(lineno - 1, len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")))

    def span(self, node: ast.AST) -> Span:
        return Span(self.pos(node.lineno, node.col_offset), self.pos(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]

    def text(self, span: Span) -> str:
        if span.start.line == span.end.line:
            return self.lines[span.start.line][span.start.col : span.end.col]
        parts = [self.lines[span.start.line][span.start.col :]]
        parts.extend(self.lines[span.start.line + 1 : span.end.line])
        parts.append(self.lines[span.end.line][: span.end.col])
        return "\n".join(parts)


# -- tolerant parsing -----------------------------------------------------------------------------------

_MAX_REPAIRS = 60
_HEADER_RE = re.compile(r"^\s*(async\s+)?(def|class|if|elif|else|for|while|with|try|except|finally|match|case)\b")


# Plugins run on Python 3.12: a newer parser is asked to refuse syntax 3.12 does not have (best effort, as
# ast documents); an older one is corrected by dify_lsp.rules.python_syntax.
_PARSE_AS_312: dict = {"feature_version": (3, 12)} if sys.version_info >= (3, 13) else {}


def tolerant_parse(text: str) -> tuple[ast.Module | None, tuple[int, str] | None, frozenset[int], str]:
    """Parse, repairing broken lines one at a time: (tree, first error, patched lines, patched text)."""
    # Python also ends lines at a lone CR, and refuses NUL: blank both (same length) so that
    # ast's line numbers are the engine's ("\n"-separated) lines and the rest still parses.
    if "\r" in text or "\x00" in text:
        text = text.replace("\r", " ").replace("\x00", " ")
    lines = text.split("\n")
    first: tuple[int, str] | None = None
    patched: dict[int, int] = {}
    for _ in range(_MAX_REPAIRS):
        source = "\n".join(lines)
        try:
            return ast.parse(source, **_PARSE_AS_312), first, frozenset(patched), source
        except SyntaxError as exc:
            line = (exc.lineno or len(lines)) - 1
            line = max(0, min(line, len(lines) - 1))
            if first is None:
                first = (line, exc.msg)
            # a line already repaired twice: the trouble started earlier (e.g. an unclosed bracket)
            while patched.get(line, 0) >= 2 and line > 0:
                line -= 1
            count = patched.get(line, 0)
            if count >= 2:
                break
            original = lines[line]
            indent = original[: len(original) - len(original.lstrip())]
            stripped = original.strip()
            if count == 0 and stripped and not stripped.startswith("#"):
                is_header = bool(_HEADER_RE.match(original)) or stripped.rstrip().endswith(":")
                lines[line] = indent + ("if True:" if is_header else "pass")
            else:
                lines[line] = ""
            patched[line] = count + 1
        except (ValueError, RecursionError, MemoryError):
            break
    return None, first, frozenset(patched), "\n".join(lines)


# -- whole-file scan ------------------------------------------------------------------------------------

def scan(text: str, caches: Caches | None, previous: str | None = None) -> Scan:
    """The analysis of one file's text, kept by content in ``caches.scans`` (the index's; None: not kept).

    ``previous``: the file's text when it was last scanned.  While that scan is kept, only the chunks of the
    file an edit touched are parsed and scanned again (see :func:`_rescan`); the result is the same."""
    if caches is None:
        return _scan(text)
    hit = caches.scans.get(text)
    if hit is not None:
        return hit
    before = caches.scans.get(previous) if previous is not None else None
    if before is not None and not before.chunks:
        before = None
    result = _rescan(text, before) if before is not None else None
    if result is None:
        result = _scan(text, before)
    caches.scans.put(text, result)
    return result


def scan_file(path: Path, text: str, caches: Caches) -> Scan:
    """The scan of a file's text, starting from the scan of the file's last text that parsed (after an edit,
    only the chunks the edit touched are scanned again; see :func:`scan`)."""
    found = scan(text, caches, caches.scanned_texts.get(path))
    if found.chunks is not None:
        caches.scanned_texts.put(path, text)
    return found


def _scan(text: str, before: Scan | None = None) -> Scan:
    """The scan of ``text``, parsed whole.  With ``before`` (the scan of an earlier text of the file), a chunk
    whose lines are those of one of its chunks is taken from it rather than scanned again."""
    tree, error, patched, source = tolerant_parse(text)
    out = Scan(text, tree is not None, error, patched)
    if tree is None:
        return out
    lines = source.split("\n")
    cols = _Cols(lines)
    groups = _chunk_lines(tree, lines, 0, len(lines))
    chunks = None
    if before is not None and before.chunks:
        old_lines = _blank_line_breaks(before.text).split("\n")
        kept = {"\n".join(old_lines[c.first : c.end]): c for c in before.chunks}
        parts: list[tuple[_Chunk, _Scanner | None, list[ast.stmt], int]] = []
        for first, end, body in groups:
            old = kept.pop("\n".join(lines[first:end]), None)
            parts.append((old, None, body, first - old.first) if old is not None else (*_indexed(tree, cols, first, end, body), 0))
        chunks = _combine(out, parts, before.imports)
    if chunks is None:  # nothing to keep, or the imports changed (every chunk's chains are resolved through them)
        chunks = _combine(out, [(*_indexed(tree, cols, first, end, body), 0) for first, end, body in groups], None)
    if error is None:  # the chunks of a repaired text are not the text's
        out.chunks = chunks
    return out


# -- chunks: what lets the scan of an edited file keep what the edit did not touch ------------------------------


@dataclass(slots=True)
class _Chunk:
    """A run of top-level statements that shares no line with the statements around it (a definition with its
    decorators and body, usually), from its first line up to the next chunk's, and what the scan finds in it.

    What a chunk holds depends only on its own lines and on the module's imports; what the module's chunks
    make together (the imports, a shadowed ``print``, model configs handed from one function to another) is
    worked out by :func:`_assemble`.  So the scan of an edited text keeps the chunks an edit did not touch,
    moved by the lines and functions it added above them (:func:`_rescan`)."""

    first: int  # its first line (0-based); the first chunk starts at line 0
    end: int  # the line after its last (the next chunk's first)
    statements: int  # how many top-level statements it holds
    found: Scan  # what the scan finds in it, at its place in the text (function indexes from function_base)
    function_base: int = 0  # the index in Scan.functions of its first function
    # each statement: (1 an import, 2 a constant expression, 0 anything else; its last line, 1-based)
    tops: list[tuple[int, int]] = field(default_factory=list)
    # each import, where ast.walk meets it: (depth, child index at each level, the first from the chunk's
    # first statement), and what it says: (from-import, level, module, ((name, asname), ...), line)
    imports: list[tuple[int, tuple[int, ...], tuple]] = field(default_factory=list)
    shadows_print: bool = False  # defines or imports something named print
    # each function with session calls: (name, class it is a method of, its parameters after self / cls,
    # the indexes of its calls in found.calls)
    calling_functions: list[tuple[str, str | None, list[str], list[int]]] = field(default_factory=list)
    helper_configs: list[tuple[str | None, str, int | str, str]] = field(default_factory=list)
    attribute_configs: dict[str, dict[str, str]] = field(default_factory=dict)


def _statement_start(stmt: ast.stmt, lines: list[str]) -> int:
    """The first line (0-based) of a top-level statement: its first decorator's ``@`` for a decorated one (the
    decorator's expression may start lines below, inside brackets)."""
    decorators = getattr(stmt, "decorator_list", None)
    if not decorators:
        return stmt.lineno - 1
    line = min(stmt.lineno, decorators[0].lineno) - 1
    while line > 0 and not lines[line].startswith("@"):
        line -= 1
    return line


def _chunk_lines(tree: ast.Module, lines: list[str], first: int, end: int) -> list[tuple[int, int, list[ast.stmt]]]:
    """``tree``'s statements (lines ``first`` to ``end`` of the text) in chunks: (first line, end line, statements)."""
    groups: list[tuple[int, list[ast.stmt]]] = []
    last_end = -1
    for stmt in tree.body:
        start = _statement_start(stmt, lines)
        if groups and start <= last_end:
            groups[-1][1].append(stmt)
        else:
            groups.append((start, [stmt]))
        last_end = max(last_end, (stmt.end_lineno or stmt.lineno) - 1)
    if not groups:
        return [(first, end, [])]
    return [(first if k == 0 else start, groups[k + 1][0] if k + 1 < len(groups) else end, body) for k, (start, body) in enumerate(groups)]


def _indexed(tree: ast.Module, cols: _Cols, first: int, end: int, body: list[ast.stmt]) -> tuple[_Chunk, _Scanner, list[ast.stmt]]:
    """A new chunk of ``body``, indexed by a scanner of its own (the first half of its scan: what the
    module-wide parts need); the scanner visits it once the module's imports are known."""
    chunk = _Chunk(first, end, len(body), Scan("", True, None, frozenset()))
    scanner = _Scanner(chunk.found, cols)
    scanner.index(chunk, tree, body)
    return chunk, scanner, body


def _combine(out: Scan, parts: list[tuple[_Chunk, _Scanner | None, list[ast.stmt], int]], kept_imports: dict[str, str] | None) -> list[_Chunk] | None:
    """``out`` from its chunks, in order: each a new one with its scanner (visited here), or one kept from an
    earlier scan (no scanner) and the number of lines it moved.  Kept chunks were scanned with
    ``kept_imports``: None (``out`` untouched) when the module's imports are not those any more."""
    imports = _imports_of([(chunk, moved) for chunk, _, _, moved in parts])
    reused = sum(1 for _, scanner, _, _ in parts if scanner is None)
    if reused and imports[0] != kept_imports:
        return None
    chunks: list[_Chunk] = []
    base = 0
    for chunk, scanner, body, moved in parts:
        if scanner is not None:
            scanner.visit(chunk, body, imports[0], base)
        else:
            chunk = _moved(chunk, moved, base - chunk.function_base)
        chunks.append(chunk)
        base += len(chunk.found.functions)
    _assemble(out, chunks, imports)
    out.reused_chunks = reused
    return chunks


def _imports_of(placed: list[tuple[_Chunk, int]]) -> tuple[dict[str, str], dict[str, tuple[int, str, str | None]], list[ImportInfo]]:
    """The module's imports from its chunks' (each moved by a number of lines), in ast.walk's order: a later
    binding of a name wins."""
    records = []
    statements = 0
    for chunk, moved in placed:
        for depth, path, what in chunk.imports:
            records.append(((depth, (statements + path[0], *path[1:])), what, moved))
        statements += chunk.statements
    records.sort(key=lambda r: r[0])
    imports: dict[str, str] = {}
    relative: dict[str, tuple[int, str, str | None]] = {}
    listed: list[ImportInfo] = []
    for _, (is_from, level, module, names, line), moved in records:
        if not is_from:
            for name, asname in names:
                imports[asname or name.split(".")[0]] = name if asname else name.split(".")[0]
                listed.append(ImportInfo(0, name, (), line + moved))
            continue
        listed.append(ImportInfo(level or 0, module or "", tuple(name for name, _ in names), line + moved))
        for name, asname in names:
            local = asname or name
            if module and not level:
                imports[local] = f"{module}.{name}"
            elif name != "*":
                relative[local] = (level, module or "", name)
    return imports, relative, listed


def _assemble(out: Scan, chunks: list[_Chunk], imports) -> None:
    """The module's scan from its chunks' (in order), and what they make together."""
    out.imports, out.relative_imports, out.import_list = imports
    last_import_end = 0
    for chunk in chunks:
        for kind, end_line in chunk.tops:
            if kind == 1 or (kind == 2 and last_import_end == 0):  # after the imports, or the module docstring
                last_import_end = end_line
    out.import_insert_line = last_import_end
    shadowed_print = any(chunk.shadows_print for chunk in chunks)
    flags = out.flag_stores
    for chunk in chunks:
        found = chunk.found
        out.classes += found.classes
        out.refs += found.refs
        out.calls += found.calls
        out.invokes += found.invokes
        out.key_reads += found.key_reads
        out.session_escapes += found.session_escapes
        out.mapping_escapes |= found.mapping_escapes
        if not shadowed_print:
            out.prints += found.prints
        out.functions += found.functions
        out.module_references |= found.module_references
        out.main_references |= found.main_references
        out.module_imports |= found.module_imports
        out.scopes += found.scopes
        for name, false in found.flag_stores.items():
            flags[name] = flags.get(name, True) and false
    _follow_configs(out, chunks)


def _follow_configs(out: Scan, chunks: list[_Chunk]) -> None:
    """Model configs an ``_invoke`` hands to a helper's parameter or keeps in an attribute: the session calls of
    the helper (or of any method of the class, for an attribute) that pass them on carry the tool parameter too.
    A chunk's own calls are left as they are (a later scan may keep the chunk): a call that changes is a copy."""
    helper_configs = [c for chunk in chunks for c in chunk.helper_configs]
    attribute_configs: dict[str, dict[str, str]] = {}
    for chunk in chunks:
        for cls_name, attrs in chunk.attribute_configs.items():
            attribute_configs.setdefault(cls_name, {}).update(attrs)
    if not helper_configs and not attribute_configs:
        return
    offset = 0
    for chunk in chunks:
        for name, owner, params, indexes in chunk.calling_functions:
            by_param: dict[str, str] = {}
            for cls_name, callee, where, key in helper_configs:
                if callee != name or cls_name != owner:
                    continue
                param = where if isinstance(where, str) else (params[where] if where < len(params) else None)
                if param is not None:
                    by_param.setdefault(param, key)
            attrs = attribute_configs.get(owner, {}) if owner is not None else {}
            if not by_param and not attrs:
                continue
            for i in indexes:
                call = out.calls[offset + i]
                args = call.args
                for k, a in enumerate(call.args):
                    if a.config_key is not None:
                        continue
                    n = a.node
                    key = None
                    if isinstance(n, ast.Name):
                        key = by_param.get(n.id)
                    elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self":
                        key = attrs.get(n.attr)
                    if key is not None:
                        if args is call.args:
                            args = list(args)
                        args[k] = replace(a, config_key=key)
                if args is not call.args:
                    out.calls[offset + i] = replace(call, args=args)
        offset += len(chunk.found.calls)


def _rescan(text: str, before: Scan) -> Scan | None:
    """The scan of ``text``, an edit of ``before.text``: the chunks holding the changed lines (and the chunk
    before them, which an indented line may continue) are parsed on their own and scanned again, the other
    chunks are kept.  None where that could differ from a full scan: the changed chunks do not parse on their
    own (a syntax error, or text that belongs to a chunk around them), or the module's imports changed (every
    chunk's chains are resolved through them); then the whole text is parsed (:func:`_scan`).

    Parsing the changed lines on their own gives the full parse's statements: they start where a top-level
    statement started (or at the top) after unchanged lines, and end where one starts (or at the end), so if
    they parse alone they close every bracket, string and block they open, and the tokenizer meets the
    lines after them as it did before."""
    old_chunks = before.chunks
    if not old_chunks:
        return None
    source = _blank_line_breaks(text)
    lines = source.split("\n")
    old_lines = _blank_line_breaks(before.text).split("\n")
    n, m = len(old_lines), len(lines)
    # old lines [same_start, n - same_end) became new lines [same_start, m - same_end)
    same_start = 0
    limit = min(n, m)
    while same_start < limit and old_lines[same_start] == lines[same_start]:
        same_start += 1
    same_end = 0
    while same_end < limit - same_start and old_lines[n - 1 - same_end] == lines[m - 1 - same_end]:
        same_end += 1
    moved = m - n
    firsts = [chunk.first for chunk in old_chunks]
    low = max(same_start - 1, 0)
    i = bisect.bisect_right(firsts, low) - 1
    j = bisect.bisect_right(firsts, max(n - same_end - 1, low))
    cols = _Cols(lines)
    for attempt in range(2):
        a, b = old_chunks[i].first, old_chunks[j - 1].end + moved
        try:
            tree = ast.parse("\n" * a + "\n".join(lines[a:b]), **_PARSE_AS_312)
            break
        except SyntaxError:
            # a decorator typed above a definition, say: one chunk more after the change may complete it
            if attempt or j == len(old_chunks):
                return None
            j += 1
        except (ValueError, RecursionError, MemoryError):
            return None
    parts = [(chunk, None, [], 0) for chunk in old_chunks[:i]]
    parts += [(*_indexed(tree, cols, first, end, body), 0) for first, end, body in _chunk_lines(tree, lines, a, b)]
    parts += [(chunk, None, [], moved) for chunk in old_chunks[j:]]
    out = Scan(text, True, None, frozenset())
    chunks = _combine(out, parts, before.imports)
    if chunks is None:
        return None
    out.chunks = chunks
    return out


def _blank_line_breaks(text: str) -> str:
    """The text as tolerant_parse gives it to the parser: a lone CR and NUL blanked (see there)."""
    return text.replace("\r", " ").replace("\x00", " ") if "\r" in text or "\x00" in text else text


def _moved_span(span: Span, lines: int) -> Span:
    return Span(Pos(span.start.line + lines, span.start.col), Pos(span.end.line + lines, span.end.col))


def _moved(chunk: _Chunk, lines: int, functions: int) -> _Chunk:
    """``chunk`` ``lines`` lines further down, after ``functions`` more functions (a copy: the earlier scan that
    holds it is left as it is)."""
    if not lines and not functions:
        return chunk
    f = chunk.found
    span = _moved_span

    def ref(r: SessionRef) -> SessionRef:
        return replace(r, name_spans=tuple(None if s is None else span(s, lines) for s in r.name_spans), span=span(r.span, lines))

    def read(r: ParamRead) -> ParamRead:
        return replace(r, span=span(r.span, lines), inner=None if r.inner is None else span(r.inner, lines))

    refs = {id(r): ref(r) for r in f.refs}
    found = Scan(
        "", True, None, frozenset(),
        classes=[replace(c, name_span=span(c.name_span, lines), base_spans=[span(s, lines) for s in c.base_spans]) for c in f.classes],
        refs=list(refs.values()),
        calls=[replace(c, ref=refs.get(id(c.ref)) or ref(c.ref), span=span(c.span, lines), args=[
            replace(a, span=span(a.span, lines), keyword_span=None if a.keyword_span is None else span(a.keyword_span, lines)) for a in c.args
        ]) for c in f.calls],
        invokes=[replace(v, param_span=span(v.param_span, lines), name_span=span(v.name_span, lines), reads=[read(r) for r in v.reads]) for v in f.invokes],
        key_reads=[replace(k, read=read(k.read), function=k.function + functions) for k in f.key_reads],
        session_escapes=[ref(r) for r in f.session_escapes],
        mapping_escapes=f.mapping_escapes,
        prints=[replace(p, span=span(p.span, lines), function=None if p.function is None else p.function + functions) for p in f.prints],
        functions=[replace(fn, line=fn.line + lines, parent=None if fn.parent is None else fn.parent + functions) for fn in f.functions],
        module_references=f.module_references,
        main_references=f.main_references,
        flag_stores=f.flag_stores,
        module_imports=f.module_imports,
        scopes=[FunctionScope(s.first_line + lines, s.last_line + lines, s.aliases) for s in f.scopes],
    )
    return replace(
        chunk, first=chunk.first + lines, end=chunk.end + lines, found=found, function_base=chunk.function_base + functions,
        tops=[(kind, end + lines) for kind, end in chunk.tops],
        imports=[(depth, path, (*what[:4], what[4] + lines)) for depth, path, what in chunk.imports],
    )


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, ast.Subscript):  # Generic[T] bases
        return _dotted(node.value)
    return None


def _session_root(node: ast.expr) -> str | None:
    """'self.session' / 'self.runtime.session' when ``node`` is one."""
    if isinstance(node, ast.Attribute) and node.attr == "session":
        v = node.value
        if isinstance(v, ast.Name) and v.id == "self":
            return "self.session"
        if isinstance(v, ast.Attribute) and v.attr == "runtime" and isinstance(v.value, ast.Name) and v.value.id == "self":
            return "self.runtime.session"
    return None


# Builtins that look at an object without calling into it (the session handed to them calls nothing).
_HARMLESS_BUILTINS = frozenset({"str", "repr", "print", "len", "bool", "id", "type", "isinstance", "hasattr", "getattr", "callable", "format"})


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = (test.left, test.comparators[0])
    return any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides) and any(_str_const(x) == "__main__" for x in sides)


def _prints_to_stdout(call: ast.Call) -> bool:
    """print() without ``file=``, or with ``file=sys.stdout``: only stdout carries the plugin protocol."""
    for kw in call.keywords:
        if kw.arg == "file":
            return _dotted(kw.value) == "sys.stdout" or (isinstance(kw.value, ast.Constant) and kw.value.value is None)
        if kw.arg is None:
            return False  # print(**kwargs): unknown
    return True


def _str_const(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _mapping_test(source: str):
    """A test for the expression a key read's ``source`` names (``param:credentials``, ``self.runtime.credentials``)."""
    if source.startswith("param:"):
        name = source[len("param:"):]
        return lambda n: isinstance(n, ast.Name) and n.id == name
    return lambda n: _dotted(n) == source


def _is_false_constant(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def _targets_of(target: ast.expr) -> list[str]:
    """Names and attribute names bound by an assignment target (tuples unpacked)."""
    out: list[str] = []
    for n in ast.walk(target):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.append(n.id)
        elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store):
            out.append(n.attr)
    return out


def _tested_names(test: ast.expr) -> list[str]:
    """``if DEBUG:`` / ``if self.verbose and x:``: the names and attribute names whose truth the test needs."""
    if isinstance(test, ast.Name):
        return [test.id]
    if isinstance(test, ast.Attribute):
        return [test.attr]
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return [n for v in test.values for n in _tested_names(v)]
    return []


def _tests_membership(test: ast.expr, key: str, is_mapping) -> bool:
    """``"key" in <mapping>`` (also as one operand of an ``and``)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_tests_membership(v, key, is_mapping) for v in test.values)
    return (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In)
            and _str_const(test.left) == key and is_mapping(test.comparators[0]))


def _constant_read_key(node: ast.expr, is_mapping) -> str | None:
    """The key of ``<mapping>.get("key", ...)`` or ``<mapping>["key"]``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args and is_mapping(node.func.value):
        return _str_const(node.args[0])
    if isinstance(node, ast.Subscript) and is_mapping(node.value):
        return _str_const(node.slice)
    return None


# Fields that never hold a node worth visiting: names and numbers, and the expression-context and
# operator leaves (Load/Store/Add/...), which ast.iter_child_nodes would yield for nearly every node.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "name", "arg", "asname", "module", "level", "kind", "type_comment", "conversion", "is_async", "lineno"})
_child_fields: dict[type, tuple[str, ...]] = {}
_AST = ast.AST
# Nodes whose subtree is not part of the enclosing function's own nodes.
_SCOPE_TYPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})
# The own nodes of a function that its scan reads (the others are left out of _owned's lists: every step
# filters the list by type, and keeping a subsequence keeps the relative order, also under a stable sort).
_OWN_TYPES = frozenset({
    ast.Attribute, ast.Name, ast.Call, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.With,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
})
# The nodes _Scanner.index looks at in a chunk.
_RUN_TYPES = frozenset({ast.Try, ast.Assign, ast.AnnAssign, ast.Call, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef})


def _child_nodes(node: ast.AST) -> list[ast.AST]:
    """ast.iter_child_nodes(node) as a list, without the leaves named in _LEAF_FIELDS (a scan runs this once per node)."""
    cls = node.__class__
    fields = _child_fields.get(cls)
    if fields is None:
        fields = _child_fields[cls] = () if cls is ast.Constant else tuple(f for f in cls._fields if f not in _LEAF_FIELDS)
    out: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if value is None:
            continue
        if value.__class__ is list:
            out.extend([v for v in value if isinstance(v, _AST)])
        elif isinstance(value, _AST):
            out.append(value)
    return out


class _Restore:
    """A mark on _index's stack, below a definition's subtree: the owner list to go back to after it."""

    __slots__ = ("into",)

    def __init__(self, into: list[ast.AST] | None):
        self.into = into


class _Scanner:
    def __init__(self, out: Scan, cols: _Cols):
        self.out = out
        self.cols = cols
        self._kid_lists: dict[int, list[ast.AST]] = {}
        self._walk_orders: dict[int, list[ast.AST]] = {}
        self._fallback_classes: set[int] = set()
        # From one depth-first pass over the module (see _index): each function's own nodes in _own_nodes's
        # order (those of a type in _OWN_TYPES), and each node's parent where that parent is not a function / class / lambda (a node directly
        # under a definition has none, as in a walk of the definition's own nodes).
        self._owned: dict[int, list[ast.AST]] = {}
        self._parents: dict[int, ast.AST] = {}
        self._session_assigns: list[ast.AST] = []  # Assign / AnnAssign nodes with a `self.session` target
        self._scope_parents: dict[int, ast.AST] = {}  # the parent of a node directly under a definition or the module
        self._lambda_lists: dict[int, list[list[ast.AST]]] = {}  # id(an owner's node list) -> own node lists of its lambdas
        self._function_index: dict[int, int] = {}  # id(def node) -> index in out.functions
        # Model configs built from a tool parameter in _invoke and handed on: (class or None, callee, argument
        # position or keyword, parameter key); kept in attributes: class -> attribute -> key
        self._helper_configs: list[tuple[str | None, str, int | str, str]] = []
        self._attribute_configs: dict[str, dict[str, str]] = {}
        self._function_calls: list[tuple[ast.AST, str | None, int, int]] = []  # (def, class it is a method of, its calls' range)
        self._function_stack: list[int] = []
        self._print_calls: list[ast.Call] = []  # print() to stdout outside ``if __name__ == "__main__":``
        self.imports: dict[str, str] = {}  # the module's (local name -> qualified name)
        self.function_base = 0  # the index in Scan.functions of the chunk's first function

    # ---- tree walking: each node's children are listed once per scan, each walk's order once
    def _kids(self, node: ast.AST) -> list[ast.AST]:
        # a side table: the scan never writes to the syntax tree's nodes
        kids = self._kid_lists.get(id(node))
        if kids is None:
            kids = self._kid_lists[id(node)] = _child_nodes(node)
        return kids

    def _walk(self, node: ast.AST) -> list[ast.AST]:
        """ast.walk's nodes (same breadth-first order, minus ctx/operator leaves), listed once per scan."""
        order = self._walk_orders.get(id(node))
        if order is None:
            order = [node]
            kids = self._kids
            i = 0
            while i < len(order):
                order.extend(kids(order[i]))
                i += 1
            self._walk_orders[id(node)] = order
        return order

    def _index(self, tree: ast.Module, body: list[ast.stmt]) -> list[ast.AST]:
        """The one walk over the nodes of ``body``, top-level statements of ``tree`` (each node's children listed
        once, here): fills _owned and _parents, and returns the nodes ``index`` looks at (of a type in _RUN_TYPES).

        Each top-level statement is walked with a stack of its own; a stack visits each definition's subtree
        contiguously and in the order a walk started at that definition has, so the nodes owned by a definition
        (not inside a nested one) come out exactly as _own_nodes lists them, and so do those of a top-level
        statement that is not a definition."""
        owned = self._owned
        parents = self._parents
        up = self._scope_parents
        scopes = _SCOPE_TYPES
        wanted = _RUN_TYPES
        kept = _OWN_TYPES
        fields_of = _child_fields
        AST = _AST
        lambdas = self._lambda_lists
        found: list[ast.AST] = []
        for top in body:
            up[id(top)] = tree
            into: list[ast.AST] | None = None
            if top.__class__ not in scopes:
                into = owned[id(top)] = []
            stack: list = [top]
            pop = stack.pop
            push = stack.append
            first = True
            while stack:
                node = pop()
                cls = node.__class__
                if cls is _Restore:  # the end of a definition's subtree: back to the enclosing owner's list
                    into = node.into
                    continue
                if first:
                    first = False  # the statement itself is not one of its own nodes
                elif cls in kept:
                    into.append(node)  # type: ignore[union-attr]
                if cls in wanted:
                    found.append(node)
                fields = fields_of.get(cls)
                if fields is None:
                    fields = fields_of[cls] = () if cls is ast.Constant else tuple(f for f in cls._fields if f not in _LEAF_FIELDS)
                if cls in scopes:
                    push(_Restore(into))
                    inner: list[ast.AST] = []
                    owned[id(node)] = inner
                    if cls is ast.Lambda:
                        lambdas.setdefault(id(into), []).append(inner)
                    into = inner
                    link = up
                else:
                    link = parents
                for name in fields:
                    value = getattr(node, name, None)
                    if value is None:
                        continue
                    if value.__class__ is list:
                        for v in value:
                            if isinstance(v, AST):
                                link[id(v)] = node
                                push(v)
                    elif isinstance(value, AST):
                        link[id(value)] = node
                        push(value)
        return found

    def _bfs_key(self, node: ast.AST, tops: dict[int, int]) -> tuple[int, tuple[int, ...]]:
        """Where ``node`` comes in ast.walk's breadth-first order: (depth, child index at each level), the first
        index counted in ``tops`` (the chunk's statements)."""
        path: list[int] = []
        while True:
            parent = self._parents.get(id(node)) or self._scope_parents[id(node)]
            if parent.__class__ is ast.Module:
                path.append(tops[id(node)])
                break
            path.append(next(i for i, k in enumerate(_child_nodes(parent)) if k is node))
            node = parent
        path.reverse()
        return len(path), tuple(path)

    def _up(self, node: ast.AST) -> ast.AST | None:
        return self._parents.get(id(node)) or self._scope_parents.get(id(node))

    def _in_definition(self, node: ast.AST) -> bool:
        """Whether ``node`` is inside a function, class or lambda (not run when the module is imported)."""
        cur = self._up(node)
        while cur is not None and cur.__class__ is not ast.Module:
            if cur.__class__ in _SCOPE_TYPES:
                return True
            cur = self._up(cur)
        return False

    def _references(self, nodes: list[ast.AST], on_self: set[str] | None = None) -> tuple[set[str], bool]:
        """The names and attribute names ``nodes`` (a function's own nodes, its lambdas' included) read, the
        constant names they give getattr(), and whether they call getattr() with a computed name; the attribute
        names read on ``self`` / ``cls`` also go into ``on_self``."""
        refs: set[str] = set()
        dynamic = False
        flags = self.out.flag_stores
        pending = [nodes]
        Name, Attribute, Call = ast.Name, ast.Attribute, ast.Call
        while pending:
            current = pending.pop()
            for n in current:
                c = n.__class__
                if c is Name:
                    refs.add(n.id)  # type: ignore[attr-defined]
                elif c is Attribute:
                    refs.add(n.attr)  # type: ignore[attr-defined]
                    if on_self is not None and n.value.__class__ is Name and n.value.id in ("self", "cls"):  # type: ignore[attr-defined]
                        on_self.add(n.attr)  # type: ignore[attr-defined]
                elif c is Call:
                    func = n.func  # type: ignore[attr-defined]
                    if func.__class__ is Name and func.id in ("getattr", "setattr") and len(n.args) >= 2:  # type: ignore[attr-defined]
                        name = _str_const(n.args[1])  # type: ignore[attr-defined]
                        if name is None:
                            dynamic = True
                        else:
                            refs.add(name)
                            flags[name] = False
                elif c is ast.For or c is ast.With or c is ast.AugAssign or c is ast.NamedExpr:
                    for name in _targets(n):
                        flags[name] = False
            pending.extend(self._lambda_lists.get(id(current), ()))
        return refs, dynamic

    def _print_context(self, call: ast.Call) -> tuple[int | None, tuple[str, ...]]:
        """The function a print() is in, and the names tested by the ``if``s on the way whose true branch holds it."""
        guards: list[str] = []
        child: ast.AST = call
        cur = self._up(call)
        while cur is not None and cur.__class__ is not ast.Module:
            c = cur.__class__
            if (c is ast.If and any(s is child for s in cur.body)) or (c is ast.IfExp and cur.body is child):  # type: ignore[attr-defined]
                guards.extend(_tested_names(cur.test))  # type: ignore[attr-defined]
            elif c is ast.FunctionDef or c is ast.AsyncFunctionDef:
                return self._function_index.get(id(cur)), tuple(guards)
            elif c is ast.ClassDef:
                return None, tuple(guards)  # a class body runs on import
            child = cur
            cur = self._up(cur)
        return None, tuple(guards)

    def _guarded(self, node: ast.AST, key: str, is_mapping) -> bool:
        """Whether ``node`` (a subscript of a mapping by ``key``) runs only where ``key in <mapping>`` holds."""
        child: ast.AST = node
        cur = self._up(node)
        while cur is not None and cur.__class__ not in _SCOPE_TYPES and cur.__class__ is not ast.Module:
            c = cur.__class__
            if (c is ast.If and any(s is child for s in cur.body)) or (c is ast.IfExp and cur.body is child):  # type: ignore[attr-defined]
                if _tests_membership(cur.test, key, is_mapping):  # type: ignore[attr-defined]
                    return True
            elif c is ast.BoolOp and cur.op.__class__ is ast.And:  # type: ignore[attr-defined]
                for v in cur.values:  # type: ignore[attr-defined]
                    if v is child:
                        break
                    if _tests_membership(v, key, is_mapping):
                        return True
            child = cur
            cur = self._up(cur)
        return False

    def _fallback_keys(self, read_node: ast.AST, is_mapping) -> tuple[str, ...]:
        """The keys read (``m.get("a")`` / ``m["a"]``) before ``read_node`` in the ``or`` it is an operand of."""
        parent = self._parents.get(id(read_node))
        if parent.__class__ is not ast.BoolOp or parent.op.__class__ is not ast.Or:  # type: ignore[union-attr]
            return ()
        keys: list[str] = []
        for v in parent.values:  # type: ignore[union-attr]
            if v is read_node:
                break
            key = _constant_read_key(v, is_mapping)
            if key is not None:
                keys.append(key)
        return tuple(keys)

    # ---- entry: a chunk is indexed (what the module-wide parts need), then visited with the module's imports
    def index(self, chunk: _Chunk, tree: ast.Module, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                chunk.tops.append((1, stmt.end_lineno or stmt.lineno))
            else:
                chunk.tops.append((2 if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) else 0, stmt.end_lineno or stmt.lineno))
        # Code under `if __name__ == "__main__":` runs only when the file is run as a script, never on import.
        main_guarded: set[int] = set()
        for stmt in body:
            if isinstance(stmt, ast.If) and _is_main_guard(stmt.test):
                for sub in stmt.body:
                    main_guarded.update(id(n) for n in self._walk(sub))
        imports: list[ast.Import | ast.ImportFrom] = []
        flags = self.out.flag_stores
        for node in self._index(tree, body):
            cls = node.__class__
            if cls is ast.Try:
                # Classes defined in an except handler of a try that imports: stand-ins for a failed import.
                if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in node.body):
                    for handler in node.handlers:
                        for sub in handler.body:
                            for n in self._walk(sub):
                                if isinstance(n, ast.ClassDef):
                                    self._fallback_classes.add(id(n))
            elif cls is ast.Assign or cls is ast.AnnAssign:
                targets = node.targets if cls is ast.Assign else [node.target]
                if any(_session_root(t) == "self.session" for t in targets):
                    self._session_assigns.append(node)
                false = _is_false_constant(node.value)
                for target in targets:
                    if target.__class__ is ast.Name or target.__class__ is ast.Attribute:
                        name = target.id if target.__class__ is ast.Name else target.attr  # type: ignore[attr-defined]
                        flags[name] = flags.get(name, True) and false
                    else:
                        for name in _targets_of(target):
                            flags[name] = False
            elif cls is ast.Call:
                if isinstance(node.func, ast.Name) and node.func.id == "print" and id(node) not in main_guarded and _prints_to_stdout(node):
                    self._print_calls.append(node)
                for kw in node.keywords:  # Config(debug=True) may set an attribute of that name
                    if kw.arg is not None:
                        flags[kw.arg] = False
            elif cls is ast.Import or cls is ast.ImportFrom:
                imports.append(node)
            elif node.name == "print":  # a function definition
                chunk.shadows_print = True
        tops = {id(stmt): k for k, stmt in enumerate(body)}
        for node in imports:
            module_level = not self._in_definition(node)
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                flags[local] = False
                if module_level:
                    self.out.module_imports.add(local)
            is_from = isinstance(node, ast.ImportFrom)
            if is_from and any((alias.asname or alias.name) == "print" for alias in node.names):
                chunk.shadows_print = True
            depth, path = self._bfs_key(node, tops)
            chunk.imports.append((depth, path, (
                is_from, getattr(node, "level", 0), getattr(node, "module", None),
                tuple((alias.name, alias.asname) for alias in node.names), node.lineno - 1)))

    def visit(self, chunk: _Chunk, body: list[ast.stmt], imports: dict[str, str], function_base: int) -> None:
        self.imports = imports
        self.function_base = chunk.function_base = function_base
        for top in body:
            if top.__class__ not in _SCOPE_TYPES:
                into = self.out.main_references if isinstance(top, ast.If) and _is_main_guard(top.test) else self.out.module_references
                into.update(self._references(self._owned.get(id(top), []))[0])
        self._visit_body(body, None)
        for node in self._print_calls:
            function, guards = self._print_context(node)
            self.out.prints.append(PrintCall(self.cols.span(node.func), function, guards))
        out = self.out
        visited = list(out.calls) if self._function_calls else []
        out.refs.sort(key=lambda r: (r.span.start, r.span.end))
        out.calls.sort(key=lambda c: (c.span.start, c.span.end))
        out.prints.sort(key=lambda s: s.span.start)
        for inv in out.invokes:
            inv.reads.sort(key=lambda r: r.span.start)
        if visited:
            where = {id(c): k for k, c in enumerate(out.calls)}
            for fn, owner, lo, hi in self._function_calls:
                params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
                if owner is not None and params and not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list):
                    params = params[1:]
                chunk.calling_functions.append((fn.name, owner, params, [where[id(c)] for c in visited[lo:hi]]))
        chunk.helper_configs = self._helper_configs
        chunk.attribute_configs = self._attribute_configs

    def _visit_body(self, body: list[ast.stmt], cls: ast.ClassDef | None) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                self._class(stmt, top_level=True)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, cls)
            else:
                # definitions under module-level if / try / with blocks
                nodes = self._owned.get(id(stmt))
                for node in self._own_nodes(stmt) if nodes is None else nodes:
                    if isinstance(node, ast.ClassDef):
                        self._class(node, top_level=True)
                    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self._function(node, cls)

    def _class(self, node: ast.ClassDef, top_level: bool = False) -> None:
        line = self.cols.lines[node.lineno - 1] if node.lineno - 1 < len(self.cols.lines) else ""
        m = re.search(r"\bclass\s+", line)
        start = self.cols.pos(node.lineno, 0)
        if m:
            start = Pos(node.lineno - 1, m.end())
        name_span = Span(start, Pos(start.line, start.col + len(node.name)))
        assigns = False
        # most modules assign self.session nowhere: then no class needs its subtree walked
        for sub in self._walk(node) if self._session_assigns else ():
            if isinstance(sub, (ast.Assign, ast.AnnAssign)):
                targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                if any(_session_root(t) == "self.session" for t in targets):
                    assigns = True
        bases = [b for b in node.bases]
        members = [s.name for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for s in node.body:
            members.extend(_targets(s) if isinstance(s, (ast.Assign, ast.AnnAssign)) else [])
        unknown_body = bool(node.decorator_list) or any(k.arg == "metaclass" for k in node.keywords) or "__getattr__" in members
        self.out.classes.append(ClassInfo(
            node.name, name_span, [(_dotted(b) or "") for b in bases], [self.cols.span(b) for b in bases],
            members, assigns, top_level=top_level, fallback=id(node) in self._fallback_classes,
            has_unknown_body=unknown_body,
        ))
        self.out.module_references.update(self._references(self._owned.get(id(node), []))[0])
        session_ok = not assigns
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, node if session_ok else None, class_name=node.name)
            elif isinstance(stmt, ast.ClassDef):
                self._class(stmt)

    # ---- functions
    def _function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, cls: ast.ClassDef | None, class_name: str | None = None) -> None:
        own_nodes = self._owned.get(id(fn))
        if own_nodes is None:
            own_nodes = list(self._own_nodes(fn))
        index = self.function_base + len(self.out.functions)
        for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs, fn.args.vararg, fn.args.kwarg):
            if a is not None:
                self.out.flag_stores[a.arg] = False  # a parameter: its value comes from the caller
        decorated = any(not (isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")) for d in fn.decorator_list)
        method_of = self._scope_parents.get(id(fn))
        info = FunctionInfo(  # what it refers to is filled in by _chains
            fn.name, method_of.name if isinstance(method_of, ast.ClassDef) else None, fn.lineno - 1,
            self._function_stack[-1] if self._function_stack else None, decorated, frozenset(), False)
        self.out.functions.append(info)
        self._function_index[id(fn)] = index
        self._function_stack.append(index)
        try:
            self._function_body(fn, own_nodes, cls, class_name, info)
        finally:
            self._function_stack.pop()

    def _function_body(self, fn, own_nodes, cls: ast.ClassDef | None, class_name: str | None, info: FunctionInfo) -> None:
        aliases = self._aliases(fn, own_nodes, cls is not None)
        if aliases:
            self.out.scopes.append(FunctionScope(fn.lineno - 1, (fn.end_lineno or fn.lineno) - 1, aliases))
        first_call = len(self.out.calls)
        self._chains(own_nodes, aliases, class_name if cls is not None else None, cls is not None, info)
        if len(self.out.calls) > first_call:
            method_of = self._scope_parents.get(id(fn))
            self._function_calls.append((fn, method_of.name if isinstance(method_of, ast.ClassDef) else None, first_call, len(self.out.calls)))
        if len(self.out.calls) > first_call:
            dict_vars: dict[str, bool] = {}
            for node in own_nodes:
                for target in _targets(node) if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With, ast.NamedExpr)) else []:
                    value = getattr(node, "value", None)
                    is_dict = isinstance(node, (ast.Assign, ast.AnnAssign)) and (
                        isinstance(value, (ast.Dict, ast.DictComp))
                        or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"))
                    dict_vars[target] = dict_vars.get(target, True) and is_dict
            for call in self.out.calls[first_call:]:
                for a in call.args:
                    a.dict_var = isinstance(a.node, ast.Name) and dict_vars.get(a.node.id, False)
        if fn.name == "_invoke" and class_name is not None and len(fn.args.args) >= 2:
            names, value_vars = self._invoke_params(fn, own_nodes, class_name)
            # variables holding a wrapped tool parameter: cfg = TTSModelConfig(**tool_parameters["m"])
            wrapped_vars: dict[str, str] = {}
            for node in own_nodes:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    key = _wrapped_key_of(node.value, names, value_vars)
                    if key is not None:
                        wrapped_vars[node.targets[0].id] = key
            # ... kept in an attribute (self.cfg = ...) or another variable (cfg2 = cfg)
            attr_keys: dict[str, str] = {}
            for node in sorted((n for n in own_nodes if n.__class__ is ast.Assign or n.__class__ is ast.AnnAssign), key=lambda n: (n.lineno, n.col_offset)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if len(targets) != 1 or node.value is None:
                    continue
                key = _wrapped_key_of(node.value, names, value_vars) or (wrapped_vars.get(node.value.id) if isinstance(node.value, ast.Name) else None)
                target = targets[0]
                if key is None:
                    continue
                if isinstance(target, ast.Name):
                    wrapped_vars.setdefault(target.id, key)
                elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                    attr_keys[target.attr] = key
            if attr_keys:
                self._attribute_configs.setdefault(class_name, {}).update(attr_keys)

            def config_of(node: ast.expr) -> str | None:
                key = _wrapped_key_of(node, names, value_vars)
                if key is None and isinstance(node, ast.Name):
                    key = wrapped_vars.get(node.id)
                if key is None and isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                    key = attr_keys.get(node.attr)
                return key

            # arguments of this function's session calls that come from a tool parameter
            for call in self.out.calls[first_call:]:
                for a in call.args:
                    a.param_key = _param_key_of(a.node, names, value_vars)
                    a.config_key = config_of(a.node)
            # ... and arguments of its calls of helpers (self.run(cfg), run(model_config=cfg)): followed into them
            for node in own_nodes:
                if node.__class__ is not ast.Call:
                    continue
                func = node.func  # type: ignore[attr-defined]
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
                    owner, callee = class_name, func.attr
                elif isinstance(func, ast.Name):
                    owner, callee = None, func.id
                else:
                    continue
                for i, value in enumerate(node.args):  # type: ignore[attr-defined]
                    if isinstance(value, ast.Starred):
                        break
                    key = config_of(value)
                    if key is not None:
                        self._helper_configs.append((owner, callee, i, key))
                for kw in node.keywords:  # type: ignore[attr-defined]
                    key = config_of(kw.value) if kw.arg is not None else None
                    if key is not None:
                        self._helper_configs.append((owner, callee, kw.arg, key))
        # module-level helpers too (class_name ""): model plugins read credentials in shared functions
        self._key_reads(fn, own_nodes, class_name if class_name is not None else "")
        for node in own_nodes:
            if isinstance(node, ast.ClassDef):
                self._class(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not fn:
                self._function(node, cls, class_name)

    _MAPPING_PARAMS = ("credentials", "settings", "parameters")

    def _key_reads(self, fn, own_nodes, class_name: str) -> None:
        """``self.runtime.credentials["x"]`` / ``.get("x")`` and reads of a ``credentials`` / ``settings`` parameter."""
        params = {a.arg for a in [*fn.args.args, *fn.args.kwonlyargs] if a.arg in self._MAPPING_PARAMS}
        parents = self._parents
        Name, Attribute = ast.Name, ast.Attribute
        for node in own_nodes:
            source = None
            cls = node.__class__
            if cls is Name:
                if node.id not in params:
                    continue
                if not isinstance(node.ctx, ast.Load):
                    self.out.mapping_escapes.add((class_name, f"param:{node.id}"))
                    continue
                source = f"param:{node.id}"
            elif (cls is Attribute and node.attr == "credentials" and isinstance(node.value, ast.Attribute)
                  and node.value.attr == "runtime" and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"
                  and isinstance(node.ctx, ast.Load)):
                source = "self.runtime.credentials"
            if source is None:
                continue
            parent = parents.get(id(node))
            read = None
            if isinstance(parent, ast.Attribute) and parent.attr == "get":
                call = parents.get(id(parent))
                if isinstance(call, ast.Call) and call.func is parent and call.args and _str_const(call.args[0]) is not None:
                    read = self._read(call.args[0], "get")
                    if len(call.args) >= 2:
                        read.default = self.cols.text(self.cols.span(call.args[1]))
                    read.fallback_after = self._fallback_keys(call, _mapping_test(source))
            elif (isinstance(parent, ast.Subscript) and parent.value is node and _str_const(parent.slice) is not None
                  and isinstance(parent.ctx, ast.Load)):
                read = self._read(parent.slice, "subscript")
                read.guarded = self._guarded(parent, read.key, _mapping_test(source))
            elif isinstance(parent, ast.Compare) and _str_const(parent.left) is not None:
                read = self._read(parent.left, "in")
            if read is None:
                # written to, passed on, iterated, re-bound...: the keys it holds are no longer the YAML's alone
                self.out.mapping_escapes.add((class_name, source))
            else:
                self.out.key_reads.append(KeyRead(source, class_name, fn.name, read, self._function_stack[-1] if self._function_stack else -1))

    def _own_nodes(self, fn: ast.AST):
        """Nodes of a function body, not descending into nested functions / classes (which are yielded)."""
        stack = list(self._kids(fn))
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            stack.extend(self._kids(node))

    def _path(self, node: ast.expr, aliases: dict[str, tuple[tuple[str, ...], str, str]], self_ok: bool) -> tuple[tuple[str, ...], str, list[ast.Attribute], str] | None:
        """(names after the session, root text, the Attribute node of each name, root kind) when ``node`` is a session chain."""
        attrs: list[ast.Attribute] = []
        cur = node
        while True:
            root = _session_root(cur) if self_ok else None
            if root is not None:
                attrs.reverse()
                return tuple(a.attr for a in attrs), root, attrs, root
            if isinstance(cur, ast.Name):
                hit = aliases.get(cur.id)
                if hit is None:
                    return None
                attrs.reverse()
                return (*hit[0], *(a.attr for a in attrs)), cur.id, attrs, hit[2]
            if isinstance(cur, ast.Attribute):
                attrs.append(cur)
                cur = cur.value
                continue
            if isinstance(cur, ast.Call) and not cur.args and not cur.keywords and self._is_current_session(cur.func):
                # the SDK's get_current_session(): the Session of the request being served
                attrs.reverse()
                return tuple(a.attr for a in attrs), "get_current_session()", attrs, "param"
            if isinstance(cur, ast.Call):
                # An SDK invocation object built from the session: ChatAppInvocation(self.session).invoke(...)
                prefix = self._invocation_class(cur.func)
                given = cur.args[0] if len(cur.args) == 1 and not cur.keywords else (
                    cur.keywords[0].value if not cur.args and len(cur.keywords) == 1 and cur.keywords[0].arg == "session" else None)
                if prefix is None or given is None:
                    return None
                inner = self._path(given, aliases, self_ok)
                if inner is None or inner[0]:
                    return None
                attrs.reverse()
                return (*prefix, *(a.attr for a in attrs)), f"{_dotted(cur.func)}(...)", attrs, inner[3]
            return None

    def _invocation_class(self, func: ast.expr) -> tuple[str, ...] | None:
        """The catalog path of an SDK invocation class named by ``func`` (through the file's imports)."""
        dotted = _dotted(func)
        if dotted is None:
            return None
        first, _, rest = dotted.partition(".")
        qual = self.imports.get(first)
        if qual is None:
            return None
        full = f"{qual}.{rest}" if rest else qual
        if not full.startswith("dify_plugin.invocations."):
            return None
        return catalog.INVOCATION_PATHS.get(full.rsplit(".", 1)[-1])

    def _is_current_session(self, func: ast.expr) -> bool:
        dotted = _dotted(func)
        if dotted is None or dotted.rsplit(".", 1)[-1] != "get_current_session":
            return False
        first, _, rest = dotted.partition(".")
        qual = self.imports.get(first)
        full = f"{qual}.{rest}" if qual and rest else qual
        return bool(full) and full.startswith("dify_plugin")

    def _is_sdk_session(self, annotation: ast.expr) -> bool:
        """An annotation naming the SDK's Session (``Session``, ``runtime.Session``, ``Session | None`` ...)."""
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            return self._is_sdk_session(annotation.left) or self._is_sdk_session(annotation.right)
        if isinstance(annotation, ast.Subscript) and _dotted(annotation.value) in ("Optional", "typing.Optional"):
            return self._is_sdk_session(annotation.slice)
        dotted = _dotted(annotation)
        if dotted is None or dotted.rsplit(".", 1)[-1] != "Session":
            return False
        first, _, rest = dotted.partition(".")
        qual = self.imports.get(first)
        full = f"{qual}.{rest}" if qual and rest else qual
        return bool(full) and full.startswith("dify_plugin.")

    def _aliases(self, fn, own_nodes, self_ok: bool) -> dict[str, tuple[tuple[str, ...], str, str]]:
        aliases: dict[str, tuple[tuple[str, ...], str, str]] = {}
        banned: set[str] = set()
        args = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
        for a in args:
            if a.annotation is not None and self._is_sdk_session(a.annotation):
                aliases[a.arg] = ((), a.arg, "param")
            else:
                banned.add(a.arg)
        assigns = sorted(
            (n for n in own_nodes if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.With))),
            key=lambda n: (n.lineno, n.col_offset),
        )
        for node in assigns:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name, value = node.targets[0].id, node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                name, value = node.target.id, node.value
            else:
                for target in _targets(node):
                    banned.add(target)
                    aliases.pop(target, None)
                continue
            if name in banned:
                continue
            path = self._path(value, aliases, self_ok)
            if path is None or (name in aliases and aliases[name][0] != path[0]):
                banned.add(name)
                aliases.pop(name, None)
            else:
                aliases[name] = (path[0], path[1], path[3])
        return aliases

    def _chains(self, own_nodes, aliases, class_name: str | None, self_ok: bool, info: FunctionInfo) -> None:
        """The session chains, calls and escapes of one function; also fills in what ``info`` refers to
        (the same pass as :meth:`_references`)."""
        parents = self._parents
        Attribute, Name, Call, Load = ast.Attribute, ast.Name, ast.Call, ast.Load
        refs: set[str] = set()
        on_self: set[str] = set()
        flags = self.out.flag_stores
        # one pass sorts out the nodes each step below looks at (in own_nodes order)
        outermost: list[ast.Attribute] = []  # attributes that are not the value of another attribute
        loads: list[ast.expr] = []  # outermost names / attributes read
        call_nodes: list[ast.Call] = []
        for node in own_nodes:
            cls = node.__class__
            if cls is Attribute or cls is Name:
                if cls is Name:
                    refs.add(node.id)  # type: ignore[attr-defined]
                else:
                    refs.add(node.attr)  # type: ignore[attr-defined]
                    value = node.value  # type: ignore[attr-defined]
                    if value.__class__ is Name and value.id in ("self", "cls"):
                        on_self.add(node.attr)  # type: ignore[attr-defined]
                parent = parents.get(id(node))
                if parent.__class__ is Attribute and parent.value is node:  # type: ignore[union-attr]
                    continue  # not the outermost attribute of its chain
                if cls is Attribute:
                    outermost.append(node)  # type: ignore[arg-type]
                if node.ctx.__class__ is Load:  # type: ignore[union-attr]
                    loads.append(node)  # type: ignore[arg-type]
            elif cls is Call:
                call_nodes.append(node)  # type: ignore[arg-type]
                func = node.func  # type: ignore[attr-defined]
                if func.__class__ is Name and func.id in ("getattr", "setattr") and len(node.args) >= 2:  # type: ignore[attr-defined]
                    name = _str_const(node.args[1])  # type: ignore[attr-defined]
                    if name is None:
                        info.dynamic = True
                    else:
                        refs.add(name)
                        flags[name] = False
            elif cls is ast.For or cls is ast.AugAssign or cls is ast.NamedExpr:
                target = node.target  # type: ignore[attr-defined]
                if target.__class__ is Name:
                    flags[target.id] = False
                else:
                    for name in _targets(node):
                        flags[name] = False
            elif cls is ast.With:
                for name in _targets(node):
                    flags[name] = False
        for inner in self._lambda_lists.get(id(own_nodes), ()):
            more, dynamic = self._references(inner, on_self)
            refs |= more
            info.dynamic |= dynamic
        info.references = frozenset(refs)
        info.self_references = frozenset(on_self)
        seen_refs: dict[int, SessionRef] = {}
        for node in outermost:
            found = self._path(node, aliases, self_ok)
            if found is None:
                continue
            names, root, attrs, kind = found
            if not attrs:
                continue
            # names that come from an alias's definition have no span here
            spans = (None,) * (len(names) - len(attrs)) + tuple(self._attr_name_span(a) for a in attrs)
            ref = SessionRef(names, spans, self.cols.span(node), root, class_name, node, kind)
            self.out.refs.append(ref)
            seen_refs[id(node)] = ref
        if seen_refs:
            for node in call_nodes:
                if id(node.func) in seen_refs:
                    ref = seen_refs[id(node.func)]
                    resolved, n = catalog.resolve(ref.names)
                    self.out.calls.append(SessionCall(ref, self._args(node, own_nodes), self.cols.span(node), resolved if n == len(ref.names) else None))
        # The session (or a namespace object under it) handed to other code: what that code calls is not seen here.
        for node in loads:
            parent = parents.get(id(node))
            handed = (
                (isinstance(parent, ast.Call) and node is not parent.func and self._invocation_class(parent.func) is None
                 and not (isinstance(parent.func, ast.Name) and parent.func.id in _HARMLESS_BUILTINS))
                or isinstance(parent, (ast.keyword, ast.Return, ast.Yield, ast.List, ast.Tuple, ast.Dict, ast.Starred))
                or (isinstance(parent, ast.Assign) and parent.value is node and not all(isinstance(t, ast.Name) for t in parent.targets))
            )
            if isinstance(parent, ast.keyword):
                call = parents.get(id(parent))
                handed = not (isinstance(call, ast.Call) and self._invocation_class(call.func) is not None)
            if not handed:
                continue
            found = self._path(node, aliases, self_ok)
            if found is None:
                continue
            names, root, _attrs, kind = found
            resolved, n = catalog.resolve(names)
            if n == len(names) and resolved is not None and resolved.type is not None:
                self.out.session_escapes.append(SessionRef(names, (), self.cols.span(node), root, class_name, node, kind))

    def _attr_name_span(self, node: ast.Attribute) -> Span:
        end = self.cols.pos(node.end_lineno, node.end_col_offset)  # type: ignore[arg-type]
        return Span(Pos(end.line, max(0, end.col - len(node.attr))), end)

    def _args(self, call: ast.Call, own_nodes) -> list[Arg]:
        out: list[Arg] = []
        for a in call.args:
            starred = isinstance(a, ast.Starred)
            span = self.cols.span(a)
            out.append(Arg(None, span, None, self.cols.text(span), a, starred=starred))
        for kw in call.keywords:
            span = self.cols.span(kw.value)
            if kw.arg is None:
                out.append(Arg(None, span, None, self.cols.text(span), kw.value, double_starred=True))
                continue
            start = self.cols.pos(kw.lineno, kw.col_offset)
            out.append(Arg(kw.arg, span, Span(start, Pos(start.line, start.col + len(kw.arg))), self.cols.text(span), kw.value))
        return out

    # ---- tool parameters
    def _invoke_params(self, fn, own_nodes, class_name: str) -> tuple[set[str], dict[str, str]]:
        arg = fn.args.args[1]
        param_span = self.cols.span(arg)
        param_span = Span(param_span.start, Pos(param_span.start.line, param_span.start.col + len(arg.arg)))
        line = self.cols.lines[fn.lineno - 1]
        m = re.search(r"\bdef\s+", line)
        name_start = Pos(fn.lineno - 1, m.end() if m else 0)
        info = InvokeParams(class_name, arg.arg, param_span, Span(name_start, Pos(name_start.line, name_start.col + len(fn.name))))
        names = {arg.arg}
        nodes = sorted((n for n in self._closure_nodes(own_nodes, names) if hasattr(n, "lineno")), key=lambda n: (n.lineno, n.col_offset))
        # local aliases of the dict itself: params = tool_parameters
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if isinstance(node.value, ast.Name) and node.value.id in names:
                    names.add(node.targets[0].id)
        parents = self._parents
        value_vars: dict[str, str] = {}

        def is_params(n: ast.AST) -> bool:
            return isinstance(n, ast.Name) and n.id in names

        for node in nodes:
            if not (isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load)):
                continue
            parent = parents.get(id(node))
            read: ParamRead | None = None
            if isinstance(parent, ast.Attribute) and parent.attr == "get":
                call = parents.get(id(parent))
                if isinstance(call, ast.Call) and call.func is parent and call.args and _str_const(call.args[0]) is not None:
                    read = self._read(call.args[0], "get")
                    if len(call.args) >= 2:
                        read.default = self.cols.text(self.cols.span(call.args[1]))
                    read.fallback_after = self._fallback_keys(call, is_params)
                    self._remember_var(parents.get(id(call)), call, read.key, value_vars)
            elif isinstance(parent, ast.Subscript) and parent.value is node and _str_const(parent.slice) is not None:
                read = self._read(parent.slice, "subscript")
                read.guarded = self._guarded(parent, read.key, is_params)
                self._remember_var(parents.get(id(parent)), parent, read.key, value_vars)
            elif isinstance(parent, ast.Compare) and len(parent.comparators) == 1 and parent.comparators[0] is node and _str_const(parent.left) is not None:
                read = self._read(parent.left, "in")
            elif isinstance(parent, ast.Assign) and parent.value is node:
                continue  # params = tool_parameters (handled above)
            if read is None:
                info.escapes = True
            else:
                info.reads.append(read)
        self.out.invokes.append(info)
        return names, value_vars

    def _closure_nodes(self, own_nodes: list[ast.AST], names: set[str]) -> list[ast.AST]:
        """A function's own nodes and those of the functions and lambdas defined in it that do not bind one of
        ``names`` as a parameter of their own (a closure reads the enclosing function's dict)."""
        out: list[ast.AST] = []
        pending = [own_nodes]
        while pending:
            current = pending.pop()
            out.extend(current)
            pending.extend(self._lambda_lists.get(id(current), ()))
            for n in current:
                if n.__class__ is ast.FunctionDef or n.__class__ is ast.AsyncFunctionDef:
                    args = n.args  # type: ignore[attr-defined]
                    if not any(a.arg in names for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)):
                        inner = self._owned.get(id(n))
                        if inner is not None:
                            pending.append(inner)
        return out

    @staticmethod
    def _remember_var(holder: ast.AST | None, value: ast.AST, key: str, value_vars: dict[str, str]) -> None:
        if isinstance(holder, ast.Assign) and holder.value is value and len(holder.targets) == 1 and isinstance(holder.targets[0], ast.Name):
            value_vars[holder.targets[0].id] = key

    def _read(self, node: ast.expr, how: str) -> ParamRead:
        span = self.cols.span(node)
        raw = self.cols.text(span)
        key = _str_const(node) or ""
        inner = None
        if span.start.line == span.end.line and len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0] and raw[1:-1] == key:
            inner = Span(Pos(span.start.line, span.start.col + 1), Pos(span.end.line, span.end.col - 1))
        return ParamRead(key, span, inner, how)


def _wrapped_key_of(node: ast.expr, names: set[str], value_vars: dict[str, str]) -> str | None:
    """The key of ``X(**<tool parameter>)``, e.g. ``RerankModelConfig(**tool_parameters["model"])``, and of
    any ``*ModelConfig(...)`` built with ``**<tool parameter>`` among other arguments
    (``LLMModelConfig(**tool_parameters["m"], completion_params={})``)."""
    if not isinstance(node, ast.Call):
        return None
    if not node.args and len(node.keywords) == 1 and node.keywords[0].arg is None:
        return _param_key_of(node.keywords[0].value, names, value_vars)
    if (_dotted(node.func) or "").endswith("ModelConfig"):
        for kw in node.keywords:
            if kw.arg is None:
                key = _param_key_of(kw.value, names, value_vars)
                if key is not None:
                    return key
    return None


def _param_key_of(node: ast.expr, names: set[str], value_vars: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return value_vars.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        if isinstance(node.func.value, ast.Name) and node.func.value.id in names and node.args:
            return _str_const(node.args[0])
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in names:
        return _str_const(node.slice)
    return None


def _targets(node: ast.AST) -> list[str]:
    out: list[str] = []
    if isinstance(node, ast.Assign):
        for t in node.targets:
            out.extend(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        out.extend(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    elif isinstance(node, ast.NamedExpr):
        out.append(node.target.id)
    elif isinstance(node, ast.For):
        out.extend(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    elif isinstance(node, ast.With):
        for item in node.items:
            if item.optional_vars is not None:
                out.extend(n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name))
    return out


# -- cursor analysis ---------------------------------------------------------------------------------

_IDENT = r"[A-Za-z_\u00c0-\uffff][\w]*"
_CHAIN_BEFORE = re.compile(rf"({_IDENT}(?:[ \t]*\.[ \t]*{_IDENT})*)[ \t]*\.[ \t]*(\w*)$")
_DOTTED_END = re.compile(rf"({_IDENT}(?:[ \t]*\.[ \t]*{_IDENT})*)$")
_CHAIN_CHARS = 300  # a chain is looked for in this many characters before the cursor (bounds regex work)


@dataclass(frozen=True, slots=True)
class CursorChain:
    names: tuple[str, ...]  # after the session, complete names only
    partial: str  # the word being typed after the last dot ("" right after a dot)
    partial_span: Span  # where the partial word is (for the completion's text edit)
    root_text: str


def _split_dotted(expr: str) -> list[str]:
    return [p.strip() for p in expr.split(".")]


def _resolve_root(parts: list[str], lines: list[str], line: int, caches: Caches | None) -> tuple[tuple[str, ...], str] | None:
    """Names after the session for a dotted expression written on ``line``.

    ``self.session`` / ``self.runtime.session`` are read from the text; any other root name is resolved
    through the aliases the checker's scan finds in the function around the cursor (see
    :func:`function_aliases_at`), so completion, hover and signature help follow exactly the aliases the
    rules follow."""
    if len(parts) >= 2 and parts[0] == "self" and parts[1] == "session":
        return tuple(parts[2:]), "self.session"
    if len(parts) >= 3 and parts[0] == "self" and parts[1] == "runtime" and parts[2] == "session":
        return tuple(parts[3:]), "self.runtime.session"
    if not parts or parts[0] == "self" or not parts[0].isidentifier():
        return None
    aliases = function_aliases_at(lines, line, caches)
    hit = aliases.get(parts[0]) if aliases else None
    if hit is None:
        return None
    return (*hit[0], *parts[1:]), parts[0]


_DEF_LINE = re.compile(r"^([ \t]*)(?:async[ \t]+)?def[ \t]")
_IMPORT_LINE = re.compile(r"^[ \t]*((?:from[ \t]+[\w.]+[ \t]+import[ \t]+[\w., \t]+)|(?:import[ \t]+[\w., \t]+))[ \t]*(?:#.*)?$")
_FUNCTION_LINES = 3000  # the enclosing function is looked for this far up, and read this far down


def _indent(text: str) -> int | None:
    """The indentation of a line holding code; None for a blank or comment line."""
    stripped = text.lstrip()
    if not stripped or stripped.startswith("#"):
        return None
    return len(text) - len(stripped)


def function_aliases_at(lines: list[str], line: int, caches: Caches | None) -> dict[str, tuple[tuple[str, ...], str, str]] | None:
    """The session aliases of the function ``line`` is in, as the checker's scan finds them.

    Only that function is scanned (with the file's import lines, at their own line numbers, since an alias
    may depend on them: ``Session`` annotations, invocation classes), so the answer costs a parse of one
    function whatever the file's size, and a half-typed line elsewhere in the file does not matter."""
    if line >= len(lines):
        return None
    # Up: the first ``def`` less indented than every code line between it and the cursor.
    floor = _indent(lines[line])
    first = None
    for i in range(line - 1, max(-1, line - _FUNCTION_LINES), -1):
        ind = _indent(lines[i])
        if ind is None or (floor is not None and ind >= floor) or lines[i].lstrip()[0] in ")]}":
            continue  # deeper code, or the closing bracket of a header written over several lines
        if _DEF_LINE.match(lines[i]):
            first = i
            break
        floor = ind
        if ind == 0:
            return None
    if first is None:
        return None
    def_indent = _indent(lines[first]) or 0
    if def_indent and first == 0:
        return None
    # Down: the function ends before the next code line indented no deeper than its ``def``.
    last = first
    for i in range(first + 1, min(len(lines), first + _FUNCTION_LINES)):
        ind = _indent(lines[i])
        if ind is None:
            continue
        if ind <= def_indent and i > line:
            break
        last = i
    out = [""] * (last + 1)
    for i, text in enumerate(lines[:first]):
        if "import" in text:
            m = _IMPORT_LINE.match(text)
            if m:
                out[i] = m.group(1)
    if def_indent:
        out[first - 1] = "class _Enclosing:"  # a method: scanned as one, so its ``self.session`` chains count
    out[first:] = lines[first : last + 1]
    found = scan("\n".join(out), caches)
    for scope in found.scopes:
        if scope.first_line == first:
            return scope.aliases
    return None


def chain_at(lines: list[str], pos: Pos, caches: Caches | None) -> CursorChain | None:
    """The session chain being typed at ``pos`` (``self.session.model.ll|``), or None."""
    if pos.line >= len(lines):
        return None
    before = lines[pos.line][: pos.col]
    m = _CHAIN_BEFORE.search(before, max(0, len(before) - _CHAIN_CHARS))
    if not m:
        return None
    if _in_string_or_comment(before[: m.start()]):
        return None
    root = _resolve_root(_split_dotted(m.group(1)), lines, pos.line, caches)
    if root is None:
        return None
    partial = m.group(2)
    return CursorChain(root[0], partial, Span(Pos(pos.line, pos.col - len(partial)), pos), root[1])


def word_span_at(line_text: str, line: int, col: int) -> tuple[str, Span] | None:
    start = col
    while start > 0 and (line_text[start - 1].isalnum() or line_text[start - 1] == "_"):
        start -= 1
    end = col
    while end < len(line_text) and (line_text[end].isalnum() or line_text[end] == "_"):
        end += 1
    if start == end:
        return None
    return line_text[start:end], Span(Pos(line, start), Pos(line, end))


def names_at(lines: list[str], pos: Pos, caches: Caches | None) -> tuple[tuple[str, ...], Span, str] | None:
    """For hover: the session path up to the word under the cursor, its span, and the root text.

    An empty path means the cursor is on the session itself (``self.session`` / an alias).
    """
    if pos.line >= len(lines):
        return None
    text = lines[pos.line]
    found = word_span_at(text, pos.line, pos.col)
    if found is None:
        return None
    word, span = found
    before = text[: span.end.col]
    m = _DOTTED_END.search(before, max(0, len(before) - _CHAIN_CHARS))
    if not m or _in_string_or_comment(before[: m.start()]):
        return None
    parts = _split_dotted(m.group(1))
    root = _resolve_root(parts, lines, pos.line, caches)
    if root is None:
        return None
    return root[0], span, root[1]


@dataclass(frozen=True, slots=True)
class CursorCall:
    names: tuple[str, ...]  # the callee after the session
    root_text: str
    arg_index: int  # index of the argument the cursor is in
    keyword: str | None  # the keyword of that argument, when typed (``name=``)
    used_keywords: tuple[str, ...]
    open_paren: Pos


_WINDOW_LINES = 40


def call_at(lines: list[str], pos: Pos, caches: Caches | None) -> CursorCall | None:
    """The session call whose argument list holds ``pos`` (for signature help)."""
    if pos.line >= len(lines):
        return None
    first = max(0, pos.line - _WINDOW_LINES)
    chunk = "\n".join(lines[first : pos.line] + [lines[pos.line][: pos.col]])
    # Walk forward, tracking strings, comments and brackets; keep a stack of open brackets.
    stack: list[tuple[str, int, list[int], list[str]]] = []  # (bracket, offset, comma offsets, keywords)
    i, n = 0, len(chunk)
    while i < n:
        ch = chunk[i]
        if ch == "#":
            j = chunk.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch in "'\"":
            triple = chunk[i : i + 3] in ("'''", '"""')
            quote = chunk[i : i + 3] if triple else ch
            j = i + len(quote)
            while j < n:
                if chunk[j] == "\\":
                    j += 2
                    continue
                if chunk.startswith(quote, j):
                    break
                if not triple and chunk[j] == "\n":
                    break
                j += 1
            i = j + len(quote)
            continue
        if ch in "([{":
            stack.append((ch, i, [], []))
        elif ch in ")]}":
            if stack:
                stack.pop()
        elif ch == "," and stack:
            stack[-1][2].append(i)
        elif ch == "=" and stack and stack[-1][0] == "(":
            nxt = chunk[i + 1] if i + 1 < n else ""
            prv = chunk[i - 1] if i > 0 else ""
            if nxt != "=" and prv not in "=!<>":
                seg_start = stack[-1][2][-1] + 1 if stack[-1][2] else stack[-1][1] + 1
                kw = chunk[seg_start:i].strip()
                if kw.isidentifier():
                    stack[-1][3].append(kw)
        i += 1
    for bracket, offset, commas, keywords in reversed(stack):
        if bracket != "(":
            return None
        before = chunk[:offset].rstrip()
        m = _DOTTED_END.search(before, max(0, len(before) - _CHAIN_CHARS))
        if not m:
            return None
        line_no = first + chunk.count("\n", 0, offset)
        root = _resolve_root(_split_dotted(m.group(1)), lines, line_no, caches)
        if root is None:
            return None
        seg_start = commas[-1] + 1 if commas else offset + 1
        current = chunk[seg_start:]
        km = re.match(r"\s*(\w+)\s*=(?!=)", current)
        open_col = offset - (chunk.rfind("\n", 0, offset) + 1)
        used = tuple(k for k in keywords if not (km and k == km.group(1)))
        return CursorCall(root[0], root[1], len(commas), km.group(1) if km else None, used, Pos(line_no, open_col))
    return None


def _in_string_or_comment(prefix: str) -> bool:
    """Whether the end of one line's ``prefix`` is inside a string or a comment (single-line view)."""
    quote: str | None = None
    i = 0
    while i < len(prefix):
        ch = prefix[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if prefix.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        else:
            if ch == "#":
                return True
            if ch in "'\"":
                quote = prefix[i : i + 3] if prefix[i : i + 3] in ("'''", '"""') else ch
                i += len(quote)
                continue
        i += 1
    return quote is not None
