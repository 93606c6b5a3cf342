"""Quick fixes that write plugin YAML or create files, built from a finding and the plugin around it.

A rule's own :class:`~dify_lsp.findings.Fix` edits the place it reports; these need to know more (which YAML
declares the tool a Python read belongs to, which provider lists a tool, what a missing file should hold), so
they are built here from the finding, the text of its file and the plugin index: declare an undeclared parameter
(DL207/DL214), mark an unread required parameter optional or remove it (DL208), list a stray tool (DL003),
create a missing tool or source (DL002), create the Tool subclass (DL211), declare a credential or setting the
code reads (DL218). The editor turns each :class:`PlannedFix` into a code action, ``dify-lsp mcp`` writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dify_lsp import pyscan, scaffold
from dify_lsp.findings import Finding, TextEdit
from dify_lsp.i18n import Listing, Message, msg
from dify_lsp.index import CONTENTS, Plugin, PluginIndex
from dify_lsp.schema.references import ENDPOINT, ENDPOINT_GROUP, MODEL_PROVIDER, PYTHON, TOOL, TOOL_PROVIDER
from dify_lsp.sdk import catalog
from dify_lsp.textpos import Span
from dify_lsp.yamledit import add_entry, append_item, remove_item
from dify_lsp.yamlpos import YMap, YScalar, YSeq


@dataclass
class FixSite:
    """Where fixes are built: the finding's file with its current text (the editor's, when open), its plugin and
    the index that read them."""

    path: Path
    text: str
    plugin: Plugin
    index: PluginIndex

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")


@dataclass(frozen=True)
class PlannedFix:
    title: Message  # said in the user's language where it is shown
    edits: tuple[TextEdit, ...]
    files: dict[Path, str] = field(default_factory=dict)  # files to create, with their text
    preferred: bool = False


_NUMBER_CALLS = re.compile(r"\b(?:int|float)\(\s*$")
_BOOL_CALLS = re.compile(r"\bbool\(\s*$")


def _guess_type(site: FixSite, scanned: pyscan.Scan, read: pyscan.ParamRead) -> tuple[str, str | None]:
    """(parameter type, scope) from how the code uses the value it reads."""
    for call in scanned.calls:
        method = call.method
        if method is None:
            continue
        arg = call.bind().get("model_config")
        config = method.param("model_config")
        if arg is None or config is None or read.key not in (arg.param_key, arg.config_key):
            continue
        # the model-selector scope that picks a model of the type this invoke takes (catalog data; llm
        # also takes a dict, so its config class is only in the annotation)
        class_name = config.config_class or next((c for c in config.annotation.split(" | ") if c in catalog.CONFIG_CLASSES), None)
        if class_name is not None:
            return "model-selector", catalog.CONFIG_CLASSES[class_name].model_type
    line = site.lines[read.span.start.line] if read.span.start.line < len(site.lines) else ""
    before = line[: read.span.start.col]
    # tool_parameters["x"] / .get("x") sits right after int( / float( / bool(
    head = re.sub(r"(?:\w+\s*\.\s*get\s*\(|\w+\s*\[)\s*$", "", before)
    if _NUMBER_CALLS.search(head):
        return "number", None
    if _BOOL_CALLS.search(head):
        return "boolean", None
    return "string", None


def _declare_parameter(site: FixSite, finding: Finding) -> list[PlannedFix]:
    scanned = pyscan.scan_file(site.path, site.text, site.index.caches)
    read = next((r for inv in scanned.invokes for r in inv.reads if r.span == finding.span), None)
    if read is None or not read.key:
        return []
    ptype, scope = _guess_type(site, scanned, read)
    form = "form" if ptype == "model-selector" else "llm"
    item = scaffold.parameter_item(read.key, ptype, required=read.how == "subscript", form=form, scope=scope)
    out: list[PlannedFix] = []
    yamls = _sources_naming(site, site.path, TOOL)
    for yaml_path in yamls:
        yf = site.plugin.yaml_files.get(yaml_path) if site.plugin else None
        if yf is None or CONTENTS.root(yf) is None or CONTENTS.text(yf) is None:
            continue
        edits = append_item(yaml_path, CONTENTS.text(yf), CONTENTS.root(yf), "parameters", item)
        if edits:
            out += [PlannedFix(msg("Declare '{name}' in {file} ({type})", name=read.key, file=site.plugin.relative(yaml_path), type=ptype), tuple(edits), {}, len(yamls) == 1)]  # type: ignore[union-attr]
    return out


def _parameter_item(site: FixSite, span: Span) -> tuple[YSeq, YMap] | None:
    root = CONTENTS.root(site.plugin.yaml_files[site.path]) if site.plugin and site.path in site.plugin.yaml_files else None
    seq = root.get("parameters") if root is not None else None
    if not isinstance(seq, YSeq):
        return None
    for item in seq.items:
        if isinstance(item, YMap) and item.get("name") is not None and item.get("name").span == span:  # type: ignore[union-attr]
            return seq, item
    return None


def _unread_parameter(site: FixSite, finding: Finding) -> list[PlannedFix]:
    found = _parameter_item(site, finding.span)
    if found is None:
        return []
    seq, item = found
    name = item.get("name").value  # type: ignore[union-attr]
    out: list[PlannedFix] = []
    required = item.pair("required")
    if required is not None and isinstance(required.value, YScalar) and required.value.raw:
        out += [PlannedFix(msg("Mark '{name}' optional", name=name), tuple([TextEdit(site.path, required.value.span, "false")]), {})]
    removal = remove_item(site.path, site.text, seq, item)
    if removal is not None:
        out += [PlannedFix(msg("Remove the parameter '{name}'", name=name), tuple([removal]), {})]
    return out


def _list_tool(site: FixSite, finding: Finding) -> list[PlannedFix]:
    assert site.plugin is not None
    rel = site.plugin.relative(site.path)
    out: list[PlannedFix] = []
    providers = scaffold.tool_providers(site.plugin)
    for provider in providers:
        try:
            edits = scaffold.list_tool(site.plugin, provider, rel)
        except scaffold.ScaffoldError:
            continue
        out += [PlannedFix(msg("List {file} in {provider}", file=rel, provider=site.plugin.relative(provider)), tuple(edits), {}, len(providers) == 1)]
    return out


def _ref_at(site: FixSite, span: Span):
    assert site.plugin is not None
    return next((r for r in site.plugin.refs_from(site.path) if CONTENTS.span(r) == span and r.target is not None and not r.escapes), None)


def _create_missing(site: FixSite, finding: Finding) -> list[PlannedFix]:
    ref = _ref_at(site, finding.span)
    if ref is None or site.plugin is None:
        return []
    owner = site.plugin.yaml_files.get(ref.owner)
    try:
        if ref.target_kind == TOOL:
            plan = scaffold.missing_tool_files(site.plugin, site.index.source, ref.target)
        elif ref.target_kind == PYTHON and owner is not None and owner.kind == TOOL and ref.key == ("extra", "python", "source") and ref.target.suffix == ".py":
            plan = scaffold.missing_python(site.plugin, ref.owner, ref.target)
        else:
            return []
    except scaffold.ScaffoldError:
        return []
    names = Listing([site.plugin.relative(p) for p in plan.files], last="and")
    return [PlannedFix(msg("Create {files}", files=names), tuple(plan.edits), plan.files, True)]


def _create_class(site: FixSite, finding: Finding) -> list[PlannedFix]:
    ref = _ref_at(site, finding.span)
    owner = site.plugin.yaml_files.get(site.path) if site.plugin else None
    if ref is None or owner is None or owner.kind != TOOL or ref.target_kind != PYTHON:
        return []
    text = site.index.source.read(ref.target).text
    if text is None:
        return []
    edits = scaffold.add_tool_class(site.plugin, site.path, ref.target, text, site.index.caches)  # type: ignore[arg-type]
    return [PlannedFix(msg("Create the Tool subclass in {file}", file=site.plugin.relative(ref.target)), tuple(edits), {}, True)]  # type: ignore[union-attr]


def _owners_listing(site: FixSite, child: Path, owner_kind: str, key: tuple[str, ...]) -> list[Path]:
    assert site.plugin is not None
    out = []
    for ref in site.plugin.refs:
        owner = site.plugin.yaml_files.get(ref.owner)
        if ref.target == child and ref.key == key and owner is not None and owner.kind == owner_kind and owner.path not in out:
            out.append(owner.path)
    return out


def _sources_naming(site: FixSite, py: Path, owner_kind: str) -> list[Path]:
    assert site.plugin is not None
    out = []
    for ref in site.plugin.refs:
        owner = site.plugin.yaml_files.get(ref.owner)
        if ref.target == py and ref.key == ("extra", "python", "source") and owner is not None and owner.kind == owner_kind:
            out.append(owner.path)
    return out


def _declare_credential(site: FixSite, finding: Finding) -> list[PlannedFix]:
    """A credential or endpoint setting the code reads but the provider / endpoint group does not declare."""
    assert site.plugin is not None
    scanned = pyscan.scan_file(site.path, site.text, site.index.caches)
    found = next((kr for kr in scanned.key_reads if kr.read.span == finding.span), None)
    if found is None or not found.read.key:
        return []
    name, required = found.read.key, found.read.how == "subscript"
    if found.source == "self.runtime.credentials":
        targets = [p for tool in _sources_naming(site, site.path, TOOL) for p in _owners_listing(site, tool, TOOL_PROVIDER, ("tools",))]
    elif found.source == "param:credentials" and _model_providers_of(site, site.path):
        return _declare_model_credential(site, finding, name, required)
    elif found.source == "param:credentials":
        targets = _sources_naming(site, site.path, TOOL_PROVIDER)
    elif found.source == "param:settings":
        targets = [p for ep in _sources_naming(site, site.path, ENDPOINT) for p in _owners_listing(site, ep, ENDPOINT_GROUP, ("endpoints",))]
    else:
        return []
    out: list[PlannedFix] = []
    for target in dict.fromkeys(targets):
        yf = site.plugin.yaml_files.get(target)
        root, text = (CONTENTS.root(yf), CONTENTS.text(yf)) if yf is not None else (None, None)
        if yf is None or root is None or text is None:
            continue
        body = scaffold.form_field(name, required)
        if yf.kind == ENDPOINT_GROUP:
            what, edits = msg("setting"), append_item(target, text, root, "settings", f"name: {name}\n{body}")
        elif root.get("credentials_for_provider") is None and isinstance(root.get("credentials_schema"), YSeq):
            what, edits = msg("credential"), append_item(target, text, root, "credentials_schema", f"name: {name}\n{body}")
        else:
            what, edits = msg("credential"), add_entry(target, text, root, "credentials_for_provider", name, body)
        if edits:
            out += [PlannedFix(msg("Declare {what} '{name}' in {file}", what=what, name=name, file=site.plugin.relative(target)), tuple(edits), {}, len(targets) == 1)]
    return out


def _model_providers_of(site: FixSite, py: Path) -> list[Path]:
    """Model provider YAMLs whose provider_source / model_sources name ``py``."""
    assert site.plugin is not None
    out = []
    for ref in site.plugin.refs:
        owner = site.plugin.yaml_files.get(ref.owner)
        if ref.target == py and ref.key[:2] == ("extra", "python") and owner is not None and owner.kind == MODEL_PROVIDER:
            out.append(owner.path)
    return list(dict.fromkeys(out))


def _declare_model_credential(site: FixSite, finding: Finding, name: str, required: bool) -> list[PlannedFix]:
    """A credential variable in the model provider's form: the provider form, the per-model form, or each
    (Dify fills predefined models from the first and customizable models from the second)."""
    assert site.plugin is not None
    out: list[PlannedFix] = []
    for target in _model_providers_of(site, site.path):
        yf = site.plugin.yaml_files.get(target)
        if yf is None or CONTENTS.root(yf) is None or CONTENTS.text(yf) is None:
            continue
        item = f"variable: {name}\n{scaffold.form_field(name, required)}"
        schemas = [k for k in ("provider_credential_schema", "model_credential_schema") if isinstance(CONTENTS.root(yf).get(k), YMap)]
        for schema in schemas:
            edits = append_item(target, CONTENTS.text(yf), CONTENTS.root(yf).get(schema), "credential_form_schemas", item)  # type: ignore[arg-type]
            if edits:
                out += [PlannedFix(msg("Declare credential '{name}' in {file} ({schema})", name=name, file=site.plugin.relative(target), schema=schema), tuple(edits), {}, len(schemas) == 1)]
    return out


_FIXERS = {
    "DL218": _declare_credential,
    "DL207": _declare_parameter,
    "DL214": _declare_parameter,  # the same undeclared read through tool_parameters[...]
    "DL208": _unread_parameter,
    "DL003": _list_tool,
    "DL002": _create_missing,
    "DL211": _create_class,
}

FIXED_CODES = frozenset(_FIXERS)


def plugin_fixes(site: FixSite, finding: Finding) -> list[PlannedFix]:
    """The fixes of this kind for ``finding`` (in ``site.path``); none for codes it has none for."""
    fixer = _FIXERS.get(finding.code)
    return fixer(site, finding) if fixer is not None else []
