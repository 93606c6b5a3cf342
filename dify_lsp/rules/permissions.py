"""Permissions and model-selector data flow, checked across manifest, tool YAML and Python.

- DL305: a model-selector's value reaches ``self.session.model.<type>.invoke``
  of another model type than its ``scope`` selects.
- DL306 / DL307: a reverse invocation whose permission ``manifest.yaml`` does
  not grant, reported at the call and on the manifest, with a quick fix that
  adds exactly the missing keys.
- DL308: a granted permission no code uses.
- DL309: a storage permission without ``size`` (the daemon rejects it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dify_lsp import pyscan
from dify_lsp.analysis.plugin import YamlParam, python_of, yaml_params
from dify_lsp.findings import Finding, Fix, Related, Severity, TextEdit
from dify_lsp.i18n import Listing, msg
from dify_lsp.index import ZERO_SPAN, Reader, YamlFile, lookup
from dify_lsp.rules import CheckContext, check, define_rule
from dify_lsp.schema.plugin_files import SCOPE_MODEL_TYPE
from dify_lsp.sdk import catalog
from dify_lsp.sdk.permissions import MODEL_TYPE_OF_INVOKE, PERMISSION_FLAGS, PERMISSION_NEEDS, Flag, granted, permission_of
from dify_lsp.textpos import Pos, Span
from dify_lsp.yamledit import ensure_true
from dify_lsp.yamlpos import YMap, YNode, YScalar

FAMILY = "permissions"

SCOPE_CALL_MISMATCH = define_rule("DL305", "scope-call-mismatch", "Python code passes a model-selector's value (declared in a tool, agent strategy or endpoint YAML) to the invoke of a different model type than its `scope` selects.", Severity.ERROR, FAMILY)
MISSING_PERMISSION_AT_CALL = define_rule("DL306", "missing-permission", "A reverse invocation in the plugin's Python code that manifest.yaml does not permit: Dify refuses it at run time.", Severity.ERROR, FAMILY)
MANIFEST_MISSING_PERMISSION = define_rule("DL307", "manifest-missing-permission", "manifest.yaml lacks a permission that the plugin's Python code needs.", Severity.ERROR, FAMILY)
UNUSED_PERMISSION = define_rule("DL308", "unused-permission", "A permission manifest.yaml grants that no code of the plugin uses (a model flag without its other half grants nothing and is not reported).", Severity.HINT, FAMILY)
STORAGE_WITHOUT_SIZE = define_rule("DL309", "storage-without-size", "A storage permission without `size`: the daemon requires 1024 to 1073741824 bytes and rejects the manifest.", Severity.ERROR, FAMILY)

PERMISSION_BASE = ("resource", "permission")
DEFAULT_STORAGE_SIZE = 1048576

def _flag_key(flag: Flag) -> str:
    return f"{flag[0]}.{flag[1]}"


@dataclass(slots=True)
class CallNeed:
    path: Path
    span: Span
    wire: str
    dotted: str
    missing: tuple[Flag, ...]


def _manifest_permission(ctx: CheckContext):
    def compute(ctx: CheckContext):
        root = ctx.read.root(ctx.plugin.manifest)
        if root is None:
            return None
        node, _ = lookup(root, PERMISSION_BASE)
        try:
            return permission_of({"resource": {"permission": node.to_python()}}) if node is not None else {}
        except ValueError:  # alias bomb: the schema rules report the manifest
            return None

    return ctx.memo(("permissions", "granted"), compute)


def _call_needs(ctx: CheckContext) -> list[CallNeed]:
    def compute(ctx: CheckContext) -> list[CallNeed]:
        perm = _manifest_permission(ctx)
        needs: list[CallNeed] = []
        for unit in python_of(ctx).units:
            for call in unit.calls:
                wire = call.wire
                need = PERMISSION_NEEDS.get(wire) if wire else None
                if need is None:
                    continue
                missing = tuple(f for f in need.flags if perm is not None and not granted(perm, f))
                needs.append(CallNeed(unit.path, call.ref.span, wire, ".".join(("session", *call.ref.names)), missing))
        return needs

    return ctx.memo(("permissions", "calls"), compute)


def _permission_fix(ctx: CheckContext, flags: list[Flag]) -> tuple[Fix, ...]:
    manifest = ctx.plugin.manifest
    if ctx.read.text(manifest) is None or ctx.read.root(manifest) is None:
        return ()
    edits = ensure_true(manifest.path, ctx.read.text(manifest), ctx.read.root(manifest), PERMISSION_BASE, flags)
    if not edits:
        return ()
    keys = Listing(_flag_key(f) for f in flags)
    return (Fix(msg("Add {keys} to resource.permission in manifest.yaml", keys=keys), tuple(edits)),)


def _manifest_anchor(read: Reader, manifest: YamlFile) -> Span:
    """The deepest existing key of resource.permission, for manifest-side findings."""
    node: YNode | None = read.root(manifest)
    span = ZERO_SPAN
    for key in PERMISSION_BASE:
        if not isinstance(node, YMap) or node.pair(key) is None:
            break
        pair = node.pair(key)
        span = pair.key.span
        node = pair.value
    return span


@check(MISSING_PERMISSION_AT_CALL, MANIFEST_MISSING_PERMISSION)
def calls_are_permitted(ctx: CheckContext) -> Iterator[Finding]:
    manifest = ctx.plugin.manifest
    if ctx.read.root(manifest) is None:
        return
    needs = [n for n in _call_needs(ctx) if n.missing]
    if not needs:
        return
    all_missing: list[Flag] = []
    for n in needs:
        for f in n.missing:
            if f not in all_missing:
                all_missing.append(f)
    fixes = _permission_fix(ctx, all_missing)
    anchor = _manifest_anchor(ctx.read, manifest)
    for n in needs:
        need = PERMISSION_NEEDS[n.wire]
        keys = Listing((f"`{_flag_key(f)}: true`" for f in n.missing), last="and")
        yield MISSING_PERMISSION_AT_CALL.at(
            n.path,
            n.span,
            msg('{dotted} needs {keys} under resource.permission in manifest.yaml; without it Dify answers "{denied_message}"', dotted=n.dotted, keys=keys, denied_message=need.denied_message),
            related=[Related(manifest.path, anchor, msg("resource.permission in manifest.yaml"))],
            fixes=_permission_fix(ctx, list(n.missing)),
        )
    keys = Listing(_flag_key(f) for f in all_missing)
    yield MANIFEST_MISSING_PERMISSION.at(
        manifest.path,
        anchor,
        msg("the plugin's code needs resource.permission {keys}, which this manifest does not grant", keys=keys),
        related=[Related(n.path, n.span, msg("{dotted} needs it", dotted=n.dotted)) for n in needs[:20]],
        fixes=fixes,
    )


def _flag_spans(read: Reader, manifest: YamlFile) -> dict[Flag, Span]:
    node, _ = lookup(read.root(manifest), PERMISSION_BASE)
    out: dict[Flag, Span] = {}
    if not isinstance(node, YMap):
        return out
    for gpair in node.pairs:
        if isinstance(gpair.value, YMap) and gpair.key_text:
            for kpair in gpair.value.pairs:
                if kpair.key_text and isinstance(kpair.value, YScalar) and kpair.value.value is True:
                    out[(gpair.key_text, kpair.key_text)] = kpair.key.span
    return out


@check(UNUSED_PERMISSION)
def permissions_are_used(ctx: CheckContext) -> Iterator[Finding]:
    manifest = ctx.plugin.manifest
    if ctx.read.root(manifest) is None:
        return
    units = python_of(ctx).units
    if not units or any(not u.scan.parsed or u.scan.patched_lines or u.session_escapes for u in units):
        return  # code we cannot fully read, or the session handed to code we do not follow: we cannot know what it calls
    used: set[Flag] = set()
    for n in _call_needs(ctx):
        used.update(PERMISSION_NEEDS[n.wire].flags)
    # an invocation object the code reaches but does not call correctly (e.g. `session.model.summary(...)`,
    # reported by DL202) still shows the permission the code is meant to use
    for unit in units:
        for ref in unit.refs:
            res, n = catalog.resolve(ref.names)
            if res is not None and n == len(ref.names) and res.type is not None and ref.names:
                for _path, _owner, method in catalog.walk_methods_of(res.type):
                    need = PERMISSION_NEEDS.get(method.wire or "")
                    if need is not None:
                        used.update(need.flags)
    checkable = {f for f in PERMISSION_FLAGS if f[0] != "endpoint"}
    flags = _flag_spans(ctx.read, manifest)
    unused = [f for f in flags if f in checkable and f not in used and _grants_something(f, flags)]
    # A group none of whose grants is used is said once, at its first flag.
    for group in dict.fromkeys(f[0] for f in unused):
        mine = [f for f in unused if f[0] == group]
        whole = all(f in mine for f in flags if f[0] == group)
        for chunk in ([mine] if whole else [[f] for f in mine]):
            yield UNUSED_PERMISSION.at(
                manifest.path,
                flags[chunk[0]],
                msg("resource.permission {flag_key} is granted but no code of the plugin uses it: grant only what the plugin needs (or turn this hint off for the project with ignore = [\"DL308\"] in [tool.dify-lsp])", flag_key=Listing(_flag_key(f) for f in chunk)),
                tags=("unnecessary",),
            )


def _grants_something(flag: Flag, flags: dict[Flag, Span]) -> bool:
    """A model flag grants a call only together with the other half: `model.enabled` and a model type."""
    if flag[0] != "model":
        return True
    if flag[1] == "enabled":
        return any(f[0] == "model" and f[1] != "enabled" for f in flags)
    return ("model", "enabled") in flags


@check(STORAGE_WITHOUT_SIZE)
def storage_has_size(ctx: CheckContext) -> Iterator[Finding]:
    manifest = ctx.plugin.manifest
    node, _ = lookup(ctx.read.root(manifest), (*PERMISSION_BASE, "storage"))
    if not isinstance(node, YMap) or node.pair("size") is not None:
        return
    parent, _ = lookup(ctx.read.root(manifest), PERMISSION_BASE)
    pair = parent.pair("storage") if isinstance(parent, YMap) else None
    if pair is None:
        return
    fixes: tuple[Fix, ...] = ()
    if node.pairs and ctx.read.text(manifest) is not None:
        indent = node.pairs[0].key.span.start.col
        last = node.pairs[-1]
        end = last.value.span.end if isinstance(last.value, YScalar) else last.key.span.end
        if isinstance(last.value, YScalar) and end.line == last.key.span.start.line:
            at = Pos(end.line + 1, 0)
            text = " " * indent + f"size: {DEFAULT_STORAGE_SIZE}\n"
            if end.line + 1 >= len(ctx.read.text(manifest).split("\n")):
                at, text = end, "\n" + " " * indent + f"size: {DEFAULT_STORAGE_SIZE}"
            fixes = (Fix(msg("Add size: {DEFAULT_STORAGE_SIZE} (1 MiB)", DEFAULT_STORAGE_SIZE=DEFAULT_STORAGE_SIZE), (TextEdit(manifest.path, Span(at, at), text),)),)
    yield STORAGE_WITHOUT_SIZE.at(
        manifest.path,
        pair.key.span,
        msg("storage permission without `size`: the daemon requires size between 1024 and 1073741824 bytes and rejects the manifest"),
        fixes=fixes,
    )


# -- model-selector scope -> invoke ------------------------------------------------------------


def _selected_model_type(param: YamlParam) -> str | None:
    """The model type a model-selector's scope lets the user pick; None when unknown or missing."""
    scope = param.scope.value if param.scope is not None and isinstance(param.scope.value, str) else None
    if not scope:
        return None
    types = {SCOPE_MODEL_TYPE.get(part.strip()) for part in scope.split("&")}
    types.discard(None)
    return types.pop() if len(types) == 1 else None


def _config_key(arg: pyscan.Arg) -> str | None:
    """The tool parameter a model_config argument carries, also through XModelConfig(**value)."""
    return arg.param_key if arg.param_key is not None else arg.config_key


@check(SCOPE_CALL_MISMATCH)
def selector_scope_matches_call(ctx: CheckContext) -> Iterator[Finding]:
    for unit in python_of(ctx).units:
        params: dict[str, YamlParam] = {}
        for yf in python_of(ctx).tool_yamls_for(unit.path):
            for p in yaml_params(ctx.read, yf, ctx.index.caches) or []:
                if p.type == "model-selector":
                    params.setdefault(p.name, p)
        if not params:
            continue
        for call in unit.calls:
            called_type = MODEL_TYPE_OF_INVOKE.get(call.wire or "")
            if called_type is None:
                continue
            arg = call.bind().get("model_config")
            key = _config_key(arg) if arg is not None else None
            param = params.get(key) if key else None
            selected = _selected_model_type(param) if param is not None else None
            if selected is None or selected == called_type:
                continue
            dotted = ".".join(("session", *call.ref.names))
            yield SCOPE_CALL_MISMATCH.at(
                unit.path,
                arg.span,
                msg("model-selector '{name}' has scope '{value}', so the user picks a {selected} model, but it is passed to {dotted}, which calls a {called_type} model", name=param.name, value=param.scope.value, selected=selected, dotted=dotted, called_type=called_type),
                related=[Related(param.yaml.path, param.scope.span, msg("scope of '{name}'", name=param.name))],
            )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (SCOPE_CALL_MISMATCH, MISSING_PERMISSION_AT_CALL, MANIFEST_MISSING_PERMISSION, UNUSED_PERMISSION, STORAGE_WITHOUT_SIZE)
CHECKS = (calls_are_permitted, permissions_are_used, storage_has_size, selector_scope_matches_call)
