"""Credentials and settings read in code, checked against the YAML that declares them (family "python", DL218).

Dify fills a provider's credentials (and an endpoint group's settings) from the form the YAML declares, so
the mapping the code receives holds exactly the declared keys:

- a tool's ``self.runtime.credentials`` and a tool provider's ``_validate_credentials(self, credentials)``:
  the provider YAML's ``credentials_for_provider`` (or ``credentials_schema``) and, for OAuth, the
  ``oauth_schema.credentials_schema`` names;
- an endpoint's ``_invoke(self, r, values, settings)``: the endpoint group YAML's ``settings`` names;
- a trigger's subscription constructor: ``_create_subscription``'s ``parameters`` against
  ``subscription_constructor.parameters``, its ``credentials`` against ``subscription_constructor.credentials_schema``
  (not with OAuth); an event's ``_on_event`` ``parameters`` against the event YAML's ``parameters``;
- a model provider's ``validate_provider_credentials(self, credentials)`` and a model class's methods taking
  ``credentials``: the ``variable`` of ``provider_credential_schema`` and ``model_credential_schema`` forms.

A class that writes to the mapping, re-binds it or hands it to other code is not judged: keys may be added
there (OpenAI-compatible model wrappers fill in ``endpoint_url``, ``mode`` ... before reading them).

A key the YAML does not declare is never there: ``.get`` gives its default, ``[...]`` raises KeyError.
The declarations are read from the plugin index's parsed YAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from dify_lsp.analysis.plugin import python_of, sdk_source_file, unreachable_functions
from dify_lsp.findings import Finding, Fix, Related, Severity, TextEdit
from dify_lsp.i18n import Listing, Message, N_, msg
from dify_lsp.index import Reader, YamlFile, lookup
from dify_lsp.rules import CheckContext, check, define_rule, did_you_mean, suggest
from dify_lsp.schema.references import (
    ENDPOINT,
    ENDPOINT_GROUP,
    MODEL_PROVIDER,
    PYTHON,
    TOOL,
    TOOL_PROVIDER,
    TRIGGER_EVENT,
    TRIGGER_PROVIDER,
)
from dify_lsp.textpos import Span
from dify_lsp.yamlpos import YMap, YScalar, YSeq

FAMILY = "python"

UNDECLARED_CREDENTIAL = define_rule("DL218", "undeclared-credential", "Python code reads a credential (a tool's `self.runtime.credentials`, a tool or model provider's `credentials`, a model's `credentials`) or an endpoint setting (`settings`) that the provider / endpoint group YAML does not declare: Dify never fills it, so `.get` gives its default and `[...]` raises KeyError. Not reported in code Dify never calls for the plugin's configuration, nor as the fallback of a declared key; a hint behind a membership test.", Severity.WARNING, FAMILY)


UNREAD_CREDENTIAL = define_rule("DL219", "unread-required-credential", "A required credential or endpoint setting that a provider or endpoint group YAML declares and no Python code of the plugin reads (the user must fill it in for nothing).", Severity.HINT, FAMILY)


# SDK bases whose own code reads no credential or setting key: with them, the plugin's code is all there is.
_BASES_THAT_READ_NOTHING = frozenset({"Tool", "ToolProvider", "Endpoint"})


def _required(item) -> bool:
    req = item.get("required") if isinstance(item, YMap) else None
    return isinstance(req, YScalar) and req.value is True


def _required_names(read: Reader, yf: YamlFile) -> dict[str, Span]:
    """Required credentials / settings a YAML declares, with the span of each name."""
    root = read.root(yf)
    out: dict[str, Span] = {}
    if root is None:
        return out
    node, _ = lookup(root, ("credentials_for_provider",))
    if isinstance(node, YMap):
        for pair in node.pairs:
            if pair.key_text and _required(pair.value):
                out[pair.key_text] = pair.key.span
    for key, field_name in (("credentials_schema", "name"), ("settings", "name")):
        node, _ = lookup(root, (key,))
        for item in node.items if isinstance(node, YSeq) else []:
            name = item.get(field_name) if isinstance(item, YMap) else None
            if _required(item) and isinstance(name, YScalar) and isinstance(name.value, str):
                out[name.value] = name.span
    for key in ("provider_credential_schema", "model_credential_schema"):
        forms, _ = lookup(root, (key, "credential_form_schemas"))
        for item in forms.items if isinstance(forms, YSeq) else []:
            var = item.get("variable") if isinstance(item, YMap) else None
            if _required(item) and isinstance(var, YScalar) and isinstance(var.value, str):
                out[var.value] = var.span
    return out


def _names_in_list(node) -> list[tuple[str, Span]] | None:
    if not isinstance(node, YSeq):
        return None
    out = []
    for item in node.items:
        if isinstance(item, YMap):
            name = item.get("name")
            if isinstance(name, YScalar) and isinstance(name.value, str):
                out.append((name.value, name.span))
    return out


def _provider_credentials(read: Reader, yf: YamlFile) -> tuple[dict[str, Span], Span] | None:
    """Declared credential names of a tool provider YAML and the span to point at; None: cannot tell."""
    root = read.root(yf)
    if root is None:
        return None
    declared: dict[str, Span] = {}
    anchor = None
    node, _ = lookup(root, ("credentials_for_provider",))
    if isinstance(node, YMap):
        for pair in node.pairs:
            if pair.key_text:
                declared[pair.key_text] = pair.key.span
        anchor = root.pair("credentials_for_provider").key.span
    elif node is not None and not (isinstance(node, YScalar) and node.value is None):
        return None
    schema, _ = lookup(root, ("credentials_schema",))
    if schema is not None:
        names = _names_in_list(schema)
        if names is None:
            return None
        declared.update(dict(names))
        anchor = anchor or root.pair("credentials_schema").key.span
    if lookup(root, ("oauth_schema",))[0] is not None:
        # With OAuth the credentials are whatever the provider's _oauth_get_credentials returns: unknown here.
        return None
    if anchor is None:
        anchor = root.pairs[0].key.span if root.pairs else None
    return (declared, anchor) if anchor is not None else None


def _group_settings(read: Reader, yf: YamlFile) -> tuple[dict[str, Span], Span] | None:
    root = read.root(yf)
    if root is None:
        return None
    node, _ = lookup(root, ("settings",))
    if node is None or (isinstance(node, YScalar) and node.value is None):
        return ({}, root.pairs[0].key.span) if root.pairs else None
    names = _names_in_list(node)
    if names is None:
        return None
    return dict(names), root.pair("settings").key.span


def _model_credentials(read: Reader, yf: YamlFile) -> tuple[dict[str, Span], Span] | None:
    """Credential variables a model provider declares: its provider form and its per-model form (a model gets
    one or the other, so a read of either is fine); None when it declares neither or they cannot be read."""
    root = read.root(yf)
    if root is None:
        return None
    declared: dict[str, Span] = {}
    anchor = None
    for key in ("provider_credential_schema", "model_credential_schema"):
        schema, _ = lookup(root, (key,))
        if schema is None:
            continue
        forms, _ = lookup(schema, ("credential_form_schemas",))
        if not isinstance(forms, YSeq):
            return None
        for item in forms.items:
            var = item.get("variable") if isinstance(item, YMap) else None
            if isinstance(var, YScalar) and isinstance(var.value, str):
                declared[var.value] = var.span
        anchor = anchor or root.pair(key).key.span
    return (declared, anchor) if anchor is not None else None


def _named_list(read: Reader, yf: YamlFile, keys: tuple[str, ...], empty_ok: bool = True) -> tuple[dict[str, Span], Span] | None:
    """Names of the mapping list at ``keys`` (``parameters``, ``credentials_schema`` ...) and the key's span."""
    node, parent = lookup(read.root(yf), keys)
    if parent is None:
        return None
    pair = parent.pair(keys[-1])
    if node is None or (isinstance(node, YScalar) and node.value is None):
        return ({}, pair.key.span) if empty_ok and pair is not None else None
    if isinstance(node, YMap):  # credentials_schema may also map each name to its field
        return {p.key_text: p.key.span for p in node.pairs if p.key_text}, pair.key.span
    names = _names_in_list(node)
    return (dict(names), pair.key.span) if names is not None and pair is not None else None


def _owner_index(ctx: CheckContext) -> dict[tuple[Path | None, tuple[str, ...]], list[YamlFile]]:
    """Every reference's owning YAML by (target, key), in reference order: one pass over the references,
    not one per tool."""
    out: dict[tuple[Path | None, tuple[str, ...]], list[YamlFile]] = {}
    for ref in ctx.plugin.refs:
        yf = ctx.plugin.yaml_files.get(ref.owner)
        if yf is not None:
            out.setdefault((ref.target, ref.key), []).append(yf)
    return out


def _owners(ctx: CheckContext, child: Path, owner_kind: str, key: tuple[str, ...],
            by_target: dict[tuple[Path | None, tuple[str, ...]], list[YamlFile]]) -> list[YamlFile]:
    """The YAMLs of ``owner_kind`` naming ``child`` under ``key``, in reference order (``by_target``: see _owner_index)."""
    return [yf for yf in by_target.get((child, key), ()) if yf.kind == owner_kind]


def _expectations(ctx: CheckContext) -> Iterator[tuple[Path, str, str, str, YamlFile, tuple[dict[str, Span], Span], str]]:
    """(python file, base kind, method or '*', source, declaring YAML, (declared, anchor), what) per YAML-named source."""
    by_target = _owner_index(ctx)
    provider_decls: dict[Path, tuple[dict[str, Span], Span] | None] = {}  # one provider YAML serves all its tools
    for ref in ctx.plugin.refs:
        if ref.target_kind != PYTHON or ref.target is None or ref.key[-3:-1] != ("extra", "python"):
            continue
        owner = ctx.plugin.yaml_files.get(ref.owner)
        if owner is None:
            continue
        path = sdk_source_file(ctx.read, ref.target)
        if owner.kind == MODEL_PROVIDER:
            decl = _model_credentials(ctx.read, owner)
            if decl is not None:
                if ref.key[-1] == "provider_source":
                    yield path, "ModelProvider", "validate_provider_credentials", "param:credentials", owner, decl, "credential"
                else:
                    yield path, "AIModel", "*", "param:credentials", owner, decl, "credential"
        elif owner.kind == TOOL:
            for provider in _owners(ctx, owner.path, TOOL_PROVIDER, ("tools",), by_target):
                if provider.path not in provider_decls:
                    provider_decls[provider.path] = _provider_credentials(ctx.read, provider)
                decl = provider_decls[provider.path]
                if decl is not None:
                    yield path, "Tool", "*", "self.runtime.credentials", provider, decl, "credential"
        elif owner.kind == TOOL_PROVIDER:
            decl = _provider_credentials(ctx.read, owner)
            if decl is not None:
                yield path, "ToolProvider", "_validate_credentials", "param:credentials", owner, decl, "credential"
        elif owner.kind == TRIGGER_PROVIDER and ref.key == ("subscription_constructor", "extra", "python", "source"):
            decl = _named_list(ctx.read, owner, ("subscription_constructor", "parameters"))
            if decl is not None:
                yield path, "TriggerSubscriptionConstructor", "_create_subscription", "param:parameters", owner, decl, "subscription parameter"
            if lookup(ctx.read.root(owner), ("subscription_constructor", "oauth_schema"))[0] is None:
                decl = _named_list(ctx.read, owner, ("subscription_constructor", "credentials_schema"))
                if decl is not None:
                    yield path, "TriggerSubscriptionConstructor", "*", "param:credentials", owner, decl, "credential"
        elif owner.kind == TRIGGER_EVENT:
            decl = _named_list(ctx.read, owner, ("parameters",))
            if decl is not None:
                yield path, "Event", "_on_event", "param:parameters", owner, decl, "event parameter"
        elif owner.kind == ENDPOINT:
            for group in _owners(ctx, owner.path, ENDPOINT_GROUP, ("endpoints",), by_target):
                decl = _group_settings(ctx.read, group)
                if decl is not None:
                    yield path, "Endpoint", "_invoke", "param:settings", group, decl, "setting"


@check(UNDECLARED_CREDENTIAL, UNREAD_CREDENTIAL)
def credentials_are_declared(ctx: CheckContext) -> Iterator[Finding]:
    units = {u.path: u for u in python_of(ctx).units}
    graph = python_of(ctx).graph
    reported: set[tuple[Path, Span]] = set()
    # per declaring YAML: the keys its code reads, or None when they cannot all be known
    read_keys: dict[Path, set[str] | None] = {}
    for path, kind, method, source, yf, (declared, anchor), what in _expectations(ctx):
        unit = units.get(path)
        if unit is None:
            read_keys[yf.path] = None
            continue
        classes = {c.name for c in unit.scan.classes if kind in graph.ancestry(path, c).kinds}
        keys = read_keys.setdefault(yf.path, set())
        sdk_reads = any(  # SDK code on the way may read credentials itself (OpenAI-compatible model bases do)
            any(b.name not in _BASES_THAT_READ_NOTHING for b in anc.sdk) or anc.provided
            for anc in (graph.ancestry(path, c) for c in unit.scan.classes if c.name in classes)
        )
        if not classes or sdk_reads or any((c, source) in unit.scan.mapping_escapes for c in classes):
            read_keys[yf.path] = None
        elif keys is not None:
            keys.update(kr.read.key for kr in unit.scan.key_reads
                        if kr.class_name in classes and kr.source == source and (method == "*" or kr.method == method))
        names = list(declared)
        where = ctx.plugin.relative(yf.path)
        for kr in unit.scan.key_reads:
            read = kr.read
            if kr.class_name not in classes or kr.source != source or (method != "*" and kr.method != method):
                continue
            if (kr.class_name, source) in unit.scan.mapping_escapes:
                continue  # the class writes to the mapping or hands it on: keys may be added there
            if read.key in declared or read.how == "in" or (path, read.span) in reported:
                continue
            if read.how == "get" and any(k in declared for k in read.fallback_after):
                continue  # only asked for when a declared key gave nothing: an alternative spelling
            if kr.function in unreachable_functions(ctx).get(path, ()):
                continue  # code Dify never calls for this plugin's configuration
            reported.add((path, read.span))
            options = suggest(read.key, names)
            fixes = [Fix(msg("Change to '{o}'", o=o), (TextEdit(path, read.inner, o),), preferred=len(options) == 1) for o in options] if read.inner else []
            severity = None
            if read.how == "get":
                outcome = msg("so this is always the default, {default}", default=read.default) if read.default is not None else msg("so this is always None")
            elif read.guarded:
                outcome = msg("so the membership test before this read is never true and the branch never runs (it cannot raise KeyError)")
                severity = Severity.HINT
            else:
                outcome = msg("so this raises KeyError: '{key}'", key=read.key)
            yield UNDECLARED_CREDENTIAL.at(
                path, read.span,
                (msg("{what} '{key}' is not declared in {where}{did_you_mean}; declared: {value}. Dify never fills it, {outcome}", what=Message(what), key=read.key, where=where, did_you_mean=did_you_mean(options), value=Listing(repr(n) for n in names), outcome=outcome)
                 if names else msg("{what} '{key}' is not declared in {where}, which declares none. Dify never fills it, {outcome}", what=Message(what), key=read.key, where=where, outcome=outcome)),
                related=[Related(yf.path, anchor, Message(N_("the declared credentials") if what == "credential" else N_("the declared settings")))],
                fixes=fixes,
                severity=severity,
            )

    # required but never read: only where every read of the mapping is known, and the name appears in no
    # string of the plugin's Python at all (it may be read some other way we do not follow)
    texts = "\n".join(u.scan.text for u in units.values())
    for yf_path, keys in read_keys.items():
        yf = ctx.plugin.yaml_files.get(yf_path)
        if keys is None or yf is None:
            continue
        for name, span in _required_names(ctx.read, yf).items():
            if name in keys or f'"{name}"' in texts or f"'{name}'" in texts:
                continue
            yield UNREAD_CREDENTIAL.at(
                yf_path, span,
                (msg("required '{name}' is never read by the plugin's code (it reads: {value}); the user must fill it in for nothing", name=name, value=Listing(sorted(keys)))
                 if keys else msg("required '{name}' is never read: the plugin's code reads none of these keys, so the user must fill it in for nothing", name=name)),
                tags=("unnecessary",),
            )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (UNDECLARED_CREDENTIAL, UNREAD_CREDENTIAL)
CHECKS = (credentials_are_declared,)
