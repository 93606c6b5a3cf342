"""Names a plugin says twice: declared in YAML, used in Python and in saved invocation files.

A tool parameter is declared in the tool YAML (``parameters[].name``) and read in
the tool's code (``tool_parameters["question"]``, ``.get("question")``, through
aliases, into ``XModelConfig(**tool_parameters["model"])``); a saved invocation
file (``.dify/invocations/<tool>.yaml``) names it under ``parameters`` and
``models``.  A tool provider credential is a key of ``credentials_for_provider``
read in ``_validate_credentials`` and ``self.runtime.credentials``, and a key of
``credentials`` in those files; a model provider credential is a ``variable`` of
its credential form schemas read as ``credentials[...]`` anywhere in the model
plugin's code; an endpoint setting is a ``settings[].name`` of an endpoint group
read in the endpoint's ``_invoke``; an agent strategy parameter is a
``parameters[].name`` of the strategy YAML read in the strategy's ``_invoke``.

:func:`name_scopes` lists every place of every such name, grouped by the scope
in which the names must agree (one tool with its code; one provider with the
tools it lists; ...).  Rename, references and highlights read these; nothing
here knows LSP.  The Python side comes from :mod:`dify_lsp.pyscan` (string
literals located by the AST), so a string or a comment that merely contains a
name is never a site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dify_lsp import pyscan
from dify_lsp.findings import TextEdit
from dify_lsp.i18n import Listing, Message, N_, msg
from dify_lsp.caches import Caches
from dify_lsp.index import CONTENTS, Plugin, PluginIndex, TextSource, files_under, lookup
from dify_lsp.invocation.parameters import invocation_path
from dify_lsp.schema.references import AGENT_STRATEGY, ENDPOINT, ENDPOINT_GROUP, MODEL_PROVIDER, PYTHON, TOOL, TOOL_PROVIDER
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamlpos import YMap, YNode, YScalar, YSeq, parse_yaml

TOOL_PARAMETER = N_("tool parameter")
STRATEGY_PARAMETER = N_("agent strategy parameter")
CREDENTIAL = N_("provider credential")
MODEL_CREDENTIAL = N_("model provider credential")
ENDPOINT_SETTING = N_("endpoint setting")

DECLARATION = "declaration"
READ = "read"
SAVED = "saved"

_SKIP_DIRS = frozenset({".git", ".venv", "venv", "env", "node_modules", "__pycache__", "tests", "test", "dist", "build", ".dify"})
_MAX_MODEL_FILES = 300

# What a new name may be.  The daemon takes any name shorter than 1024 characters, but a
# name is also a workflow variable and an LLM tool-call argument in Dify, and written
# bare in YAML and in Python string literals; these are the characters published
# plugins use, which need no quoting or escaping anywhere.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
MAX_NAME_LENGTH = 1023


@dataclass(frozen=True, slots=True)
class NameSite:
    name: str
    path: Path
    span: Span  # the name's own text (inside quotes)
    role: str  # DECLARATION, READ or SAVED
    exact: bool = True  # False: the name is written in a way an edit cannot safely replace


@dataclass(slots=True)
class NameScope:
    """Names that must agree with each other: one declaring YAML and everything that uses its names."""

    kind: str
    owner: Path  # the YAML that declares them
    sites: list[NameSite] = field(default_factory=list)
    incomplete: list[Message] = field(default_factory=list)  # why some uses may not be known

    def names(self) -> set[str]:
        return {s.name for s in self.sites}

    def sites_of(self, name: str) -> list[NameSite]:
        return [s for s in self.sites if s.name == name]

    def declarations(self, name: str) -> list[NameSite]:
        return [s for s in self.sites if s.name == name and s.role == DECLARATION]


@dataclass(slots=True)
class NameAt:
    scope: NameScope
    site: NameSite

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def sites(self) -> list[NameSite]:
        return self.scope.sites_of(self.site.name)


class RenameRefused(ValueError):
    """A rename that cannot be done; the message says why."""


# -- reading the plugin ---------------------------------------------------------------------------------


def _scalar_site(name_node: YNode | None, path: Path, lines: list[str], role: str) -> NameSite | None:
    if not isinstance(name_node, YScalar) or not isinstance(name_node.value, str) or not name_node.value:
        return None
    span = name_node.span
    if span.start.line != span.end.line or span.start.line >= len(lines):
        return NameSite(name_node.value, path, span, role, exact=False)
    written = lines[span.start.line][span.start.col : span.end.col]
    if name_node.style in ("'", '"') and len(written) >= 2 and written[0] == written[-1] == name_node.style:
        inner = Span(Pos(span.start.line, span.start.col + 1), Pos(span.end.line, span.end.col - 1))
        return NameSite(name_node.value, path, inner, role, exact=written[1:-1] == name_node.value)
    return NameSite(name_node.value, path, span, role, exact=written == name_node.value)


def _lines(source: TextSource, path: Path) -> list[str] | None:
    ft = source.read(path)
    return None if ft.text is None else ft.text.split("\n")


def _list_names(seq: YNode | None, path: Path, lines: list[str], key: str = "name") -> list[NameSite]:
    out = []
    if isinstance(seq, YSeq):
        for item in seq.items:
            if isinstance(item, YMap):
                site = _scalar_site(item.get(key), path, lines, DECLARATION)
                if site is not None:
                    out.append(site)
    return out


def _map_keys(node: YNode | None, path: Path, lines: list[str], role: str) -> list[NameSite]:
    out = []
    if isinstance(node, YMap):
        for pair in node.pairs:
            site = _scalar_site(pair.key, path, lines, role)
            if site is not None:
                out.append(site)
    return out


def _credential_declarations(root: YMap, path: Path, lines: list[str]) -> list[NameSite]:
    """Keys of credentials_for_provider (and a ``name:`` inside that repeats the key); list form by name."""
    out: list[NameSite] = []
    for key in ("credentials_for_provider", "credentials_schema"):
        node = root.get(key)
        if isinstance(node, YMap):
            for pair in node.pairs:
                site = _scalar_site(pair.key, path, lines, DECLARATION)
                if site is None:
                    continue
                out.append(site)
                inner = pair.value.get("name") if isinstance(pair.value, YMap) else None
                inner_site = _scalar_site(inner, path, lines, DECLARATION)
                if inner_site is not None and inner_site.name == site.name:
                    out.append(inner_site)
        else:
            out.extend(_list_names(node, path, lines))
    return out


def _saved_keys(source: TextSource, plugin: Plugin, tool_name: str, sections: tuple[str, ...]) -> list[NameSite]:
    path = invocation_path(plugin.root, tool_name)
    ft = source.read(path)
    if ft.text is None:
        return []
    doc = parse_yaml(ft.text)
    if not isinstance(doc.root, YMap):
        return []
    lines = ft.text.split("\n")
    out: list[NameSite] = []
    for section in sections:
        out.extend(_map_keys(doc.root.get(section), path, lines, SAVED))
    return out


def _identity_name(root: YMap | None) -> str | None:
    node, _ = lookup(root, ("identity", "name"))
    return node.value if isinstance(node, YScalar) and isinstance(node.value, str) and node.value else None


def _python_sources(plugin: Plugin, yaml_path: Path) -> list[Path]:
    return [
        r.target for r in plugin.refs_from(yaml_path)
        if r.target_kind == PYTHON and r.target is not None and r.exists and not r.escapes and r.key[-1] == "source"
    ]


def _parameter_reads(source: TextSource, caches: Caches, py: Path, scope: NameScope) -> None:
    ft = source.read(py)
    if ft.text is None:
        return
    found = pyscan.scan_file(py, ft.text, caches)
    for inv in found.invokes:
        for read in inv.reads:
            scope.sites.append(NameSite(read.key, py, read.inner or read.span, READ, exact=read.inner is not None))
        if inv.escapes:
            scope.incomplete.append(msg(
                "{file}: {class_name}._invoke passes {mapping} on as a whole or reads it with a computed key",
                file=py.name, class_name=inv.class_name, mapping=inv.param,
            ))


def _key_reads(source: TextSource, caches: Caches, py: Path, scope: NameScope, mapping: str, method: str | None) -> None:
    """Constant-key reads of a credentials / settings mapping (``mapping`` as pyscan names its source)."""
    ft = source.read(py)
    if ft.text is None:
        return
    found = pyscan.scan_file(py, ft.text, caches)
    for kr in found.key_reads:
        if kr.source != mapping or (method is not None and kr.method != method):
            continue
        read = kr.read
        scope.sites.append(NameSite(read.key, py, read.inner or read.span, READ, exact=read.inner is not None))
    shown = mapping.removeprefix("param:")  # the parameter's own name, as the code writes it
    for class_name, escaped in sorted(found.mapping_escapes):
        if escaped == mapping:
            scope.incomplete.append(msg(
                "{file}: {class_name} passes {mapping} on or writes to it", file=py.name, class_name=class_name, mapping=shown,
            ))


def _listed(plugin: Plugin, owner: Path, kind: str) -> list[Path]:
    return [r.target for r in plugin.refs_from(owner) if r.target_kind == kind and r.target is not None and r.target in plugin.yaml_files]


def _parameter_scopes(plugin: Plugin, source: TextSource, caches: Caches) -> list[NameScope]:
    """Tool and agent strategy parameters; YAMLs that share one Python source share one scope (one set of reads)."""
    scopes: list[NameScope] = []
    by_source: dict[Path, NameScope] = {}
    for yf in plugin.yaml_files.values():
        root = CONTENTS.root(yf)
        if yf.kind not in (TOOL, AGENT_STRATEGY) or root is None or CONTENTS.text(yf) is None:
            continue
        sources = _python_sources(plugin, yf.path)
        scope = next((by_source[py] for py in sources if py in by_source), None)
        if scope is None:
            scope = NameScope(TOOL_PARAMETER if yf.kind == TOOL else STRATEGY_PARAMETER, yf.path)
            scopes.append(scope)
            for py in sources:
                by_source[py] = scope
                _parameter_reads(source, caches, py, scope)
        scope.sites.extend(_list_names(root.get("parameters"), yf.path, CONTENTS.text(yf).split("\n")))
        tool_name = _identity_name(root)
        if yf.kind == TOOL and tool_name:
            scope.sites.extend(_saved_keys(source, plugin, tool_name, ("parameters", "models")))
    return scopes


def name_scopes(plugin: Plugin, index: PluginIndex) -> list[NameScope]:
    """Every scope of declared names in the plugin.  Kept in the index's ``name_scopes`` store per Plugin
    object: a Plugin is rebuilt whenever one of its files (or a file under its root, saved invocations
    included) changes, so one Plugin object always has the same scopes."""
    hit = index.caches.name_scopes.get(id(plugin))
    if hit is not None and hit[0] is plugin:
        return hit[1]
    scopes = _compute_scopes(plugin, index.source, index.caches)
    index.caches.name_scopes.put(id(plugin), (plugin, scopes))
    return scopes


def _compute_scopes(plugin: Plugin, source: TextSource, caches: Caches) -> list[NameScope]:
    scopes = _parameter_scopes(plugin, source, caches)
    for yf in plugin.yaml_files.values():
        root = CONTENTS.root(yf)
        if root is None or CONTENTS.text(yf) is None:
            continue
        lines = CONTENTS.text(yf).split("\n")
        if yf.kind == TOOL_PROVIDER:
            # Credentials: the provider's form, its _validate_credentials, its tools' self.runtime.credentials
            # and the saved invocations of its tools.
            scope = NameScope(CREDENTIAL, yf.path)
            scope.sites.extend(_credential_declarations(root, yf.path, lines))
            for py in _python_sources(plugin, yf.path):
                _key_reads(source, caches, py, scope, "param:credentials", "_validate_credentials")
            for tool_path in _listed(plugin, yf.path, TOOL):
                for py in _python_sources(plugin, tool_path):
                    _key_reads(source, caches, py, scope, "self.runtime.credentials", None)
                tool_name = _identity_name(CONTENTS.root(plugin.yaml_files[tool_path]))
                if tool_name:
                    scope.sites.extend(_saved_keys(source, plugin, tool_name, ("credentials",)))
            scopes.append(scope)
        elif yf.kind == MODEL_PROVIDER:
            # A model plugin holds nothing else, so every `credentials` parameter read in its code is one of these.
            scope = NameScope(MODEL_CREDENTIAL, yf.path)
            for schema in ("provider_credential_schema", "model_credential_schema"):
                forms, _ = lookup(root, (schema, "credential_form_schemas"))
                scope.sites.extend(_list_names(forms, yf.path, lines, key="variable"))
            for py in files_under(plugin.root, (".py",), max_depth=4, limit=_MAX_MODEL_FILES, skip_dirs=_SKIP_DIRS, skip_prefixes=("test_",)):
                _key_reads(source, caches, py, scope, "param:credentials", None)
            scopes.append(scope)
        elif yf.kind == ENDPOINT_GROUP:
            scope = NameScope(ENDPOINT_SETTING, yf.path)
            scope.sites.extend(_list_names(root.get("settings"), yf.path, lines))
            for endpoint in _listed(plugin, yf.path, ENDPOINT):
                for py in _python_sources(plugin, endpoint):
                    _key_reads(source, caches, py, scope, "param:settings", "_invoke")
            scopes.append(scope)
    for scope in scopes:
        unique = {(s.path, s.span): s for s in scope.sites}  # a file read for two tools counts once
        scope.sites = sorted(unique.values(), key=lambda s: (s.role != DECLARATION, str(s.path), s.span.start))
    return scopes


def name_at(plugin: Plugin, index: PluginIndex, path: Path, pos: Pos) -> NameAt | None:
    """The declared-or-used name whose text holds ``pos`` (its ends included)."""
    for scope in name_scopes(plugin, index):
        for site in scope.sites:
            if site.path == path and site.span.start <= pos <= site.span.end:
                return NameAt(scope, site)
    return None


# -- renaming ----------------------------------------------------------------------------------------------------


def _yaml_type_of(name: str) -> str | None:
    """What YAML reads ``name`` as, when not as a string: ``invalid`` or the Python type's name."""
    try:
        value = yaml.safe_load(name)
    except yaml.YAMLError:
        return "invalid"
    return None if isinstance(value, str) else type(value).__name__


# Why a name YAML does not read as a string cannot be a name, one whole sentence per case.
_AS_YAML = {
    "invalid": N_("'{name}' is not valid YAML as a plain value, so it cannot be a name"),
    "int": N_("'{name}' would be read by YAML as a number, not as a name"),
    "float": N_("'{name}' would be read by YAML as a number, not as a name"),
    "bool": N_("'{name}' would be read by YAML as true or false, not as a name"),
    "NoneType": N_("'{name}' would be read by YAML as null, not as a name"),
    "other": N_("'{name}' would be read by YAML as a value of type {type}, not as a name"),
}


def check_new_name(found: NameAt, new_name: str) -> None:
    """Raise :class:`RenameRefused` (its message a :class:`Message`) when ``new_name`` is not a usable name or collides."""
    kind = Message(found.scope.kind)
    if not new_name:
        raise RenameRefused(msg("A {kind} needs a name.", kind=kind))
    if len(new_name) > MAX_NAME_LENGTH:
        raise RenameRefused(msg(
            "'{name}...' is too long: the Dify plugin daemon takes names of at most {limit} characters",
            name=new_name[:40], limit=MAX_NAME_LENGTH,
        ))
    if not NAME_PATTERN.match(new_name):
        raise RenameRefused(msg(
            "'{name}' is not a usable {kind} name: use letters, digits, '_' and '-' "
            "(Dify uses the name as a workflow variable and a tool-call argument)",
            name=new_name, kind=kind,
        ))
    as_yaml = _yaml_type_of(new_name)
    if as_yaml is not None:
        raise RenameRefused(msg(_AS_YAML.get(as_yaml, _AS_YAML["other"]), name=new_name, type=as_yaml))
    if new_name == found.name:
        return
    if new_name in found.scope.names():
        other = found.scope.sites_of(new_name)[0]
        raise RenameRefused(msg(
            "{kind} '{name}' already exists ({where}); renaming '{old}' to it would merge the two",
            kind=kind, name=new_name, where=f"{other.path.name}:{other.span.start.line + 1}", old=found.name,
        ))


def rename_edits(found: NameAt, new_name: str) -> list[TextEdit]:
    """The edits that rename ``found`` everywhere in its scope (checked first)."""
    check_new_name(found, new_name)
    sites = found.sites
    inexact = [s for s in sites if not s.exact]
    if inexact:
        where = Listing(f"{s.path.name}:{s.span.start.line + 1}" for s in inexact)
        raise RenameRefused(msg(
            "'{name}' is written at {where} in a form that cannot be renamed safely (not a plain string); change it there first",
            name=found.name, where=where,
        ))
    return [TextEdit(s.path, s.span, new_name) for s in sites]
