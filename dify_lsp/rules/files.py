"""Files and references: YAML syntax, missing or unreadable files, stray tools."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterator

from dify_lsp.findings import Finding, Related, Severity
from dify_lsp.i18n import Message, msg
from dify_lsp.index import ZERO_SPAN, Reader
from dify_lsp.rules import CheckContext, check, define_rule
from dify_lsp.schema.plugin_files import daemon_decodes
from dify_lsp.schema.references import ICON, ICON_FOLDER, KIND_TITLES, PYTHON, TOOL_PROVIDER
from dify_lsp.textpos import Pos, Span
from dify_lsp.uris import on_disk_spelling
from dify_lsp.yamlpos import YMap, YNode, YSeq

FAMILY = "files"

YAML_SYNTAX = define_rule("DL001", "yaml-syntax", "A plugin YAML file (manifest, provider, tool, model, `_position.yaml`, endpoint, agent strategy, datasource, trigger or event) is not valid YAML.", Severity.ERROR, FAMILY)
MISSING_FILE = define_rule("DL002", "missing-file", "A file that a plugin YAML names (a provider in manifest.yaml; a tool, Python source or icon in a provider, tool, endpoint, strategy, datasource or event YAML) does not exist, or exists only under another letter case (Dify runs plugins on Linux, where names are case-sensitive); reported at the name.", Severity.ERROR, FAMILY)
UNREFERENCED_TOOL = define_rule("DL003", "unreferenced-tool", "A tool YAML that no tool provider lists in `tools` (or lists only in a commented-out line): neither the SDK nor the daemon reads it.", Severity.WARNING, FAMILY)
OUTSIDE_ROOT = define_rule("DL004", "path-outside-plugin", "A path in a plugin YAML (manifest, provider, tool, endpoint, agent strategy, datasource, trigger or event) is absolute or climbs out of the plugin folder (it is never read).", Severity.ERROR, FAMILY)
UNREADABLE = define_rule("DL005", "unreadable-file", "A plugin YAML or Python file is binary, not UTF-8, or too large to check.", Severity.ERROR, FAMILY)
DUPLICATE_KEY = define_rule("DL006", "duplicate-key", "A mapping that the daemon decodes repeats a key (manifest.yaml; the provider, tool, model, endpoint, agent strategy, datasource, trigger and event YAMLs): its YAML decoder (yaml.v3) rejects the file.", Severity.ERROR, FAMILY)
PYTHON_SOURCE_SUFFIX = define_rule("DL007", "python-source-not-py", "A Python source path in a provider, tool, endpoint, agent strategy, datasource, trigger or event YAML that is not a .py file: the SDK imports the module named by the path without its suffix, so the .py beside it is what runs.", Severity.WARNING, FAMILY)
DUPLICATE_KEY_IGNORED = define_rule("DL008", "duplicate-key-first-lost", "A mapping that nothing decodes strictly repeats a key (in any plugin YAML: manifest, providers, tools, models, endpoints, strategies, datasources, triggers, events): the SDK keeps the last value and the first is silently lost; not reported inside a key DL105 reports as ignored.", Severity.WARNING, FAMILY)


@check(YAML_SYNTAX, DUPLICATE_KEY, DUPLICATE_KEY_IGNORED, UNREADABLE)
def yaml_files_parse(ctx: CheckContext) -> Iterator[Finding]:
    for yf in [*ctx.plugin.yaml_files.values(), *ctx.plugin.loose_tools]:
        if yf.problem and yf.problem != "missing":
            yield UNREADABLE.at(yf.path, ZERO_SPAN, msg("{get} {path}: {problem}", get=Message(KIND_TITLES.get(yf.kind, 'file')), path=ctx.plugin.relative(yf.path), problem=yf.problem))
            continue
        doc = ctx.read.doc(yf)
        if doc is None:
            continue
        if doc.error is not None:
            yield YAML_SYNTAX.at(yf.path, doc.error.span, doc.error.message)
        if doc.duplicate_keys:
            yield from _duplicate_keys(ctx, yf, listed=yf.path in ctx.plugin.yaml_files)
    for pf in ctx.plugin.python_files.values():
        if pf.problem and pf.problem != "missing":
            yield UNREADABLE.at(pf.path, ZERO_SPAN, msg("Python source {path}: {problem}", path=ctx.plugin.relative(pf.path), problem=pf.problem))


def _map_paths(node: YNode | None, path: tuple[str | int, ...], out: dict[int, tuple[str | int, ...]], depth: int = 0) -> None:
    """The key path of every pair's mapping (pairs keyed by identity)."""
    if depth > 200:
        return
    if isinstance(node, YMap):
        for pair in node.pairs:
            out[id(pair)] = path
            if pair.key_text is not None:
                _map_paths(pair.value, (*path, pair.key_text), out, depth + 1)
    elif isinstance(node, YSeq):
        for i, item in enumerate(node.items):
            _map_paths(item, (*path, i), out, depth + 1)


def _ignored_key_paths(ctx: CheckContext, yf, paths: dict[int, tuple[str | int, ...]]) -> list[tuple[str | int, ...]]:
    """The key paths of the unknown keys the schema reports (DL105): nothing reads what is under them."""
    from dify_lsp.rules.yaml_schema import UNKNOWN_KEY, schema_result

    spans = {f.span for f in schema_result(ctx.read, yf, ctx.index.caches).findings if f.code == UNKNOWN_KEY.code}
    if not spans:
        return []
    out: list[tuple[str | int, ...]] = []
    stack = [ctx.read.doc(yf).root]
    while stack:
        node = stack.pop()
        if isinstance(node, YMap):
            for pair in node.pairs:
                if pair.key.span in spans and pair.key_text is not None:
                    out.append((*paths.get(id(pair), ()), pair.key_text))
                stack.append(pair.value)
        elif isinstance(node, YSeq):
            stack.extend(node.items)
    return out


def _duplicate_keys(ctx: CheckContext, yf, listed: bool) -> Iterator[Finding]:
    paths: dict[int, tuple[str | int, ...]] = {}
    doc = ctx.read.doc(yf)
    _map_paths(doc.root, (), paths)
    ignored = _ignored_key_paths(ctx, yf, paths)
    for first, repeat in doc.duplicate_keys:
        where = paths.get(id(repeat), ())
        if any(where[: len(p)] == p for p in ignored):
            continue  # inside a key nothing reads (DL105 says so): its repeats are lost with it
        related = [Related(yf.path, first.key.span, msg("first definition"))]
        line = first.key.span.start.line + 1
        if listed and daemon_decodes(yf.kind, list(where)):
            yield DUPLICATE_KEY.at(
                yf.path,
                repeat.key.span,
                msg('duplicate key \'{key_text}\': it is already defined on line {line}; the daemon\'s YAML decoder rejects the file ("mapping key already defined")', key_text=repeat.key_text, line=line),
                related=related,
            )
        else:
            yield DUPLICATE_KEY_IGNORED.at(
                yf.path,
                repeat.key.span,
                msg("duplicate key '{key_text}' (first on line {line}): the SDK keeps this last value and the first is lost; nothing here is decoded strictly, so nothing rejects it", key_text=repeat.key_text, line=line),
                related=related,
            )


@check(MISSING_FILE, OUTSIDE_ROOT)
def references_resolve(ctx: CheckContext) -> Iterator[Finding]:
    for ref in ctx.plugin.refs:
        what = Message(KIND_TITLES.get(ref.target_kind, "file"))
        if ref.escapes or ref.target is None:
            yield OUTSIDE_ROOT.at(
                ref.owner,
                ctx.read.span(ref),
                msg("'{raw}' is outside the plugin folder: a {what} path must be relative to the plugin root and stay inside it", raw=ref.raw, what=what),
            )
            continue
        if ref.exists:
            continue
        if ref.target_kind == PYTHON and not ref.raw.endswith(".py"):
            module = module_name(ref.raw)
            yield MISSING_FILE.at(
                ref.owner,
                ctx.read.span(ref),
                msg("'{raw}' is not a Python file, and the SDK imports module `{module}` from it: there is no {target} (the plugin fails to load)", raw=ref.raw, module=module, target=ctx.plugin.relative(ref.target)),
                target=str(ref.target),
            )
            continue
        spelling = on_disk_spelling(ctx.plugin.root, ref.target)
        if spelling is not None:
            message = msg(
                "'{raw}' is spelled {spelling} on disk: Dify runs plugins on Linux, where file names are case-sensitive, so it does not find the file",
                raw=ref.raw,
                spelling=spelling,
            )
        elif ref.target_kind == ICON:
            message = msg('icon \'{raw}\' not found in {ICON_FOLDER}/ (packaging fails with "plugin icon not found")', raw=ref.raw, ICON_FOLDER=ICON_FOLDER)
        else:
            message = msg("{what} '{raw}' not found (paths are relative to the plugin root {name}/)", what=what, raw=ref.raw, name=ctx.plugin.root.name)
        yield MISSING_FILE.at(ref.owner, ctx.read.span(ref), message, target=str(ref.target))


def module_name(source: str) -> str:
    """The module the SDK's class loader imports for a source path (plugin_registration._source_to_module_name)."""
    try:
        return PurePosixPath(source).with_suffix("").as_posix().replace("/", ".")
    except ValueError:
        return source


@check(PYTHON_SOURCE_SUFFIX)
def python_sources_are_py_files(ctx: CheckContext) -> Iterator[Finding]:
    for ref in ctx.plugin.refs:
        if ref.loaded_as is None or not ref.exists:
            continue
        yield PYTHON_SOURCE_SUFFIX.at(
            ref.owner,
            ctx.read.span(ref),
            msg("'{raw}' is not a .py file: the SDK imports module `{module_name}`, so {loaded_as} is what runs (name it here)", raw=ref.raw, module_name=module_name(ref.raw), loaded_as=ref.loaded_as),
        )


@check(UNREFERENCED_TOOL)
def tools_are_listed(ctx: CheckContext) -> Iterator[Finding]:
    providers = ctx.plugin.yaml_of_kind(TOOL_PROVIDER)
    for yf in ctx.plugin.loose_tools:
        root = ctx.read.root(yf)
        ident = root.pair("identity") if root else None
        span = ident.key.span if ident else ZERO_SPAN
        rel = ctx.plugin.relative(yf.path)
        commented = _commented_listing(ctx.read, providers, rel)
        if commented is not None:
            provider, line = commented
            yield UNREFERENCED_TOOL.at(
                yf.path,
                span,
                msg("this tool is listed only in a commented-out line of {provider} (line {line}), so Dify never loads it: uncomment that line, or delete this file", provider=ctx.plugin.relative(provider.path), line=line + 1),
                related=[Related(provider.path, Span(Pos(line, 0), Pos(line, len(ctx.read.text(provider).split("\n")[line]))), msg("the commented-out line"))],
            )
            continue
        yield UNREFERENCED_TOOL.at(
            yf.path,
            span,
            msg("this tool is not listed in any tool provider's `tools`, so Dify never loads it: list '{rel}' in a provider's `tools`, or delete this file", rel=rel),
        )


def _commented_listing(read: Reader, providers: list, rel: str):
    """(provider, 0-based line) of a comment line in a tool provider that names ``rel``, else None."""
    for provider in providers:
        text = read.text(provider) or ""
        for i, line in enumerate(text.split("\n")):
            stripped = line.strip()
            if stripped.startswith("#") and rel in stripped:
                return provider, i
    return None


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (YAML_SYNTAX, MISSING_FILE, UNREFERENCED_TOOL, OUTSIDE_ROOT, UNREADABLE, DUPLICATE_KEY, PYTHON_SOURCE_SUFFIX, DUPLICATE_KEY_IGNORED)
CHECKS = (yaml_files_parse, references_resolve, python_sources_are_py_files, tools_are_listed)
