"""Maintaining the gettext catalogs: which English texts exist, and ``.po`` -> ``.mo``.

``python -m dify_lsp.i18n_catalogs update`` collects every translatable text (``msg(...)``, ``N_(...)``
and ``tr("...")`` literals in the code, plus the texts kept as data: rule descriptions, YAML schema docs,
``session.*`` catalog docs) and adds the new ones, untranslated, to each language's ``.po`` (entries no
longer used are dropped); ``python -m dify_lsp.i18n_catalogs compile`` writes the ``.mo`` files the
server reads.  Both ``.po`` and ``.mo`` are committed, so installing needs no gettext tools;
``tests/test_i18n.py`` checks that the ``.mo`` files are compiled from the ``.po`` files, that every
text has a translation in every language, and that the placeholders match.
"""

from __future__ import annotations

import ast
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dify_lsp.i18n import DOMAIN, ENGLISH, LANGUAGES, LOCALE_DIR

PACKAGE_DIR = Path(__file__).parent
MARKERS = {"msg", "N_", "Message", "tr"}


@dataclass
class Entry:
    msgid: str
    msgstr: str = ""
    refs: tuple[str, ...] = ()


# -- collecting the English texts ----------------------------------------------------------------
def code_texts() -> Iterator[tuple[str, str]]:
    """(text, "file:line") for each string literal passed first to a marker function in the package."""
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        rel = path.relative_to(PACKAGE_DIR.parent).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
            if name not in MARKERS:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
                yield first.value, f"{rel}:{node.lineno}"


def data_texts() -> Iterator[tuple[str, str]]:
    """The English texts kept as data: rule descriptions, YAML schema docs, the session catalog."""
    from dify_lsp.rules.registry import RULES
    from dify_lsp.schema import plugin_files as pf
    from dify_lsp.schema.common import SCOPES
    from dify_lsp.schema.model import Either, ListOf, MapOf, Obj, Scalar
    from dify_lsp.schema.references import KIND_TITLES
    from dify_lsp.sdk import catalog

    for rule in RULES.values():
        yield rule.description, f"rule {rule.code}"
    for title in KIND_TITLES.values():
        yield title, "schema.references.KIND_TITLES"
    for kind in ("string", "integer", "number", "boolean"):
        yield kind, "schema.model.Scalar"
    seen: set[int] = set()

    def walk(t, where: str) -> Iterator[tuple[str, str]]:
        if id(t) in seen:
            return
        seen.add(id(t))
        if isinstance(t, Scalar):
            yield t.title, "schema.model.Scalar"
        elif isinstance(t, Obj):
            yield t.title, f"{where} (title)"
            if t.doc:
                yield t.doc, where
            if t.rejects_unknown:
                yield t.rejects_unknown, f"{where} (unknown keys)"
            for f in t.fields:
                at = f"{where}.{f.name}"
                for text in (f.doc, f.pattern_doc, *(f.enum or {}).values(), *f.rejected_values.values()):
                    if text:
                        yield text, at
                yield from walk(f.type, at)
        elif isinstance(t, ListOf):
            yield from walk(t.item, where + "[]")
        elif isinstance(t, MapOf):
            yield t.key_doc, f"{where} (keys)"
            yield from walk(t.value, where + ".*")
        elif isinstance(t, Either):
            for option in t.options:
                yield from walk(option, where)

    for kind, schema in pf.SCHEMAS.items():
        yield from walk(schema, f"schema {kind}")
    for ptype, scopes in SCOPES.items():
        for text in scopes.values():
            yield text, f"scopes of {ptype}"
    for t in catalog.TYPES.values():
        yield t.doc, f"session type {t.name}"
        for a in t.attrs:
            yield a.doc, f"{t.name}.{a.name}"
        for m in t.methods:
            yield m.doc, f"{t.name}.{m.name}()"
            for p in m.params:
                yield p.doc, f"{t.name}.{m.name}({p.name})"
    from dify_lsp.sdk.classes import SDK_CLASSES

    for name, cls in SDK_CLASSES.items():
        yield cls.when_instantiated, f"{name} (when instantiated)"
    for c in catalog.CONFIG_CLASSES.values():
        yield c.doc, c.name
        for p in c.fields:
            yield p.doc, f"{c.name}.{p.name}"
    # The command line's help, whoever wrote each subcommand's options.
    from dify_lsp.cli import parser_texts

    for text in parser_texts():
        yield text, "cli --help"


def collect() -> dict[str, list[str]]:
    """Every translatable English text -> where it comes from (first seen first)."""
    out: dict[str, list[str]] = {}
    for text, ref in (*code_texts(), *data_texts()):
        if text and text.strip():
            out.setdefault(text, []).append(ref)
    return out


# -- .po files --------------------------------------------------------------------------------------
def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


def _unescape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of a .po file (the header entry under "")."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            entries["".join(msgid)] = "".join(msgstr)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [_unescape(line[6:].strip()[1:-1])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [_unescape(line[7:].strip()[1:-1])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(_unescape(line[1:-1]))
        else:
            raise ValueError(f"not a .po line I can read: {raw!r}")
    flush()
    return entries


def header(language: str) -> str:
    return (
        "Project-Id-Version: dify-lsp\n"
        f"Language: {language}\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "Content-Transfer-Encoding: 8bit\n"
    )


def write_po(language: str, entries: list[Entry]) -> str:
    lines = [
        f"# dify-lsp messages in {language}. Terms: see GLOSSARY.md beside this folder.",
        'msgid ""',
        f'msgstr "{_escape(header(language))}"',
        "",
    ]
    for e in entries:
        for ref in e.refs[:3]:
            lines.append(f"#: {ref}")
        lines.append(f'msgid "{_escape(e.msgid)}"')
        lines.append(f'msgstr "{_escape(e.msgstr)}"')
        lines.append("")
    return "\n".join(lines)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def translated_languages() -> tuple[str, ...]:
    return tuple(lang for lang in LANGUAGES if lang != ENGLISH)


# -- .mo files --------------------------------------------------------------------------------------
def compile_mo(entries: dict[str, str]) -> bytes:
    """GNU .mo bytes for the translated entries (the layout Python's gettext reads; no hash table)."""
    items = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in entries.items() if v or k == "")
    ids = b"".join(k + b"\0" for k, _ in items)
    strs = b"".join(v + b"\0" for _, v in items)
    n = len(items)
    keystart = 7 * 4 + 16 * n
    valuestart = keystart + len(ids)
    koffsets, voffsets = [], []
    ko = vo = 0
    for k, v in items:
        koffsets += [len(k), keystart + ko]
        voffsets += [len(v), valuestart + vo]
        ko += len(k) + 1
        vo += len(v) + 1
    out = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    out += struct.pack(f"{2 * n}i", *koffsets) + struct.pack(f"{2 * n}i", *voffsets)
    return out + ids + strs


# -- commands ---------------------------------------------------------------------------------------
def update() -> dict[str, int]:
    """Bring every .po file in line with the texts in the code; returns untranslated counts."""
    texts = collect()
    missing: dict[str, int] = {}
    for language in translated_languages():
        path = po_path(language)
        old = parse_po(path.read_text(encoding="utf-8")) if path.exists() else {}
        entries = [Entry(t, old.get(t, ""), tuple(refs)) for t, refs in texts.items()]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(write_po(language, entries), encoding="utf-8")
        missing[language] = sum(1 for e in entries if not e.msgstr)
    return missing


def compile_all() -> None:
    for language in translated_languages():
        entries = parse_po(po_path(language).read_text(encoding="utf-8"))
        mo_path(language).write_bytes(compile_mo(entries))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else ""
    if command == "update":
        for language, n in update().items():
            print(f"{language}: {n} untranslated")
        compile_all()
        return 0
    if command == "compile":
        compile_all()
        return 0
    print("usage: python -m dify_lsp.i18n_catalogs update|compile", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
