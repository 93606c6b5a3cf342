"""A model plugin's files against each other (DL401-DL405): model YAMLs, the provider's
`models` globs and `supported_model_types`, `_position.yaml`, parameter templates, and the
model classes in `extra.python.model_sources`.

The SDK loads model YAMLs through the provider's `models.<type>.predefined` globs
(ProviderEntity.validate_models) and registers each model class in the model sources by its
model type (PluginRegistration._resolve_model_providers); a type without a class fails when
the model is used (ModelFactory.get_instance raises KeyError).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from dify_lsp.findings import Finding, Related, Severity
from dify_lsp.i18n import Listing, msg
from dify_lsp.index import ZERO_SPAN, Reader, YamlFile, lookup
from dify_lsp.rules import CheckContext, check, define_rule, did_you_mean, suggest
from dify_lsp.schema.model_provider import MODEL_CLASS_BASES, MODEL_TYPES, PARAMETER_TEMPLATES
from dify_lsp.schema.references import MODEL, MODEL_POSITION, MODEL_PROVIDER, MODEL_TYPE_KEYS
from dify_lsp.yamlpos import YMap, YScalar, YSeq

FAMILY = "schema"

TYPE_FOLDER = define_rule("DL401", "model-type-mismatch", "A model YAML's `model_type` differs from the model provider's `models.<type>` glob that loads it: Dify lists it by its `model_type`, but the `_position.yaml` of the glob's type is what orders it (reported on the model YAML).", Severity.HINT, FAMILY)
TYPE_UNSUPPORTED = define_rule("DL402", "model-type-unsupported", "A model YAML's `model_type` is not in the model provider's `supported_model_types`: Dify does not offer the model (reported on the model YAML).", Severity.WARNING, FAMILY)
POSITION_UNKNOWN = define_rule("DL403", "position-unknown-model", "A model `_position.yaml` names a model that no model YAML of that type defines, so the entry orders nothing; also reported once when the provider has no `models.<type>.position` (the daemon never reads the file) and when lines indented under one entry fold into a single name.", Severity.WARNING, FAMILY)
UNKNOWN_TEMPLATE = define_rule("DL404", "unknown-parameter-template", "A model YAML's parameter rule has a `use_template` that is not one of the SDK's templates: the daemon refuses the model (\"use_template ... not found\") and the SDK fills nothing in.", Severity.ERROR, FAMILY)
MISSING_MODEL_CLASS = define_rule("DL405", "missing-model-class", "A model type the model provider YAML offers has no model class (LargeLanguageModel, TextEmbeddingModel, ... subclass) in its `extra.python.model_sources`: every use of such a model fails (KeyError in the SDK's ModelFactory).", Severity.ERROR, FAMILY)

def _text(node) -> str | None:
    return node.value if isinstance(node, YScalar) and isinstance(node.value, str) else None


def _model_origin(ctx: CheckContext) -> dict[Path, tuple[YamlFile, str]]:
    """Each model YAML -> (its provider, the `models:` key whose glob matched it first)."""
    out: dict[Path, tuple[YamlFile, str]] = {}
    for glob in ctx.plugin.model_globs:
        provider = ctx.plugin.yaml_files.get(glob.owner)
        if provider is None:
            continue
        for path in glob.matches:
            out.setdefault(path, (provider, glob.type_key))
    return out


def _supported(read: Reader, provider: YamlFile) -> tuple[set[str], YSeq | None]:
    node, _ = lookup(read.root(provider), ("supported_model_types",))
    if not isinstance(node, YSeq):
        return set(), None
    return {v for v in (_text(i) for i in node.items) if v}, node


def _same_model_elsewhere(ctx: CheckContext, provider: YamlFile, mtype: str, yf: YamlFile, path: Path) -> Path | None:
    """A model YAML of the same provider, loaded through the `mtype` glob, that defines the same model."""
    name = _text(lookup(ctx.read.root(yf), ("model",))[0])
    if name is None:
        return None
    for other, (owner, type_key) in _model_origin(ctx).items():
        if other == path or owner.path != provider.path or MODEL_TYPE_KEYS.get(type_key) != mtype:
            continue
        oyf = ctx.plugin.yaml_files.get(other)
        if oyf is not None and oyf.kind == MODEL and ctx.read.root(oyf) is not None and _text(lookup(ctx.read.root(oyf), ("model",))[0]) == name:
            return other
    return None


@check(TYPE_FOLDER, TYPE_UNSUPPORTED)
def model_types_agree(ctx: CheckContext) -> Iterator[Finding]:
    for path, (provider, type_key) in _model_origin(ctx).items():
        yf = ctx.plugin.yaml_files.get(path)
        if yf is None or yf.kind != MODEL or ctx.read.root(yf) is None:
            continue
        pair = ctx.read.root(yf).pair("model_type")
        value = _text(pair.value) if pair else None
        if value is None or value not in MODEL_TYPES:
            continue  # missing or invalid: the schema reports it
        expected = MODEL_TYPE_KEYS[type_key]
        if value != expected:
            twin = _same_model_elsewhere(ctx, provider, value, yf, path)
            if twin is not None:
                yield TYPE_FOLDER.at(
                    path,
                    pair.value.span,
                    msg("`model_type: {value}` but this file is loaded through `models.{type_key}.predefined`, and {twin} already defines this {value} model where it belongs: remove this duplicate", value=value, type_key=type_key, twin=ctx.plugin.relative(twin)),
                    related=[Related(twin, ZERO_SPAN, msg("the model where it belongs"))],
                )
                continue
            yield TYPE_FOLDER.at(
                path,
                pair.value.span,
                msg("`model_type: {value}` but this file is loaded through `models.{type_key}.predefined`: Dify lists it as a {value} model (served by the provider's {get} class), while the folder and glob say {expected}; move it under the {value} glob (or fix model_type if '{expected}' was meant)", value=value, type_key=type_key, get=MODEL_CLASS_BASES.get(value, value), expected=expected),
                related=[Related(provider.path, g.span, msg("the glob that loads it")) for g in ctx.plugin.model_globs if path in g.matches][:1],
            )
        supported, seq = _supported(ctx.read, provider)
        if seq is not None and value not in supported:
            yield TYPE_UNSUPPORTED.at(
                path,
                pair.value.span,
                msg("`model_type: {value}` is not in the provider's supported_model_types ({value2}): Dify does not offer this model", value=value, value2=Listing(sorted(supported)))
                if supported else msg("`model_type: {value}` is not in the provider's supported_model_types, which lists none: Dify does not offer this model", value=value),
                related=[Related(provider.path, seq.span, msg("supported_model_types"))],
            )


def _position_key(read: Reader, provider: YamlFile, type_key: str):
    """The provider's `models.<type>.position` pair (the daemon reads the order only from the file it names)."""
    node, _ = lookup(read.root(provider), ("models", type_key))
    return node.pair("position") if isinstance(node, YMap) else None


def _folded_names(item: YScalar, known: list[str]) -> list[str]:
    """The names a plain scalar swallowed when lines below a `- name` were indented deeper than its dash
    (YAML folds them into the item: "a - b - c")."""
    if item.style or "\n" not in item.raw and " - " not in str(item.value):
        return []
    parts = [p.strip() for p in str(item.value).split(" - ")]
    return parts if len(parts) > 1 and sum(p in known for p in parts) >= 1 else []


@check(POSITION_UNKNOWN)
def positions_name_models(ctx: CheckContext) -> Iterator[Finding]:
    origin = _model_origin(ctx)
    names: dict[tuple[Path, str], list[str]] = {}
    for path, (provider, type_key) in origin.items():
        yf = ctx.plugin.yaml_files.get(path)
        if yf is not None and yf.kind == MODEL and ctx.read.root(yf) is not None:
            name = _text(ctx.read.root(yf).get("model"))
            if name:
                names.setdefault((provider.path, type_key), []).append(name)
    for path, (provider, type_key) in origin.items():
        yf = ctx.plugin.yaml_files.get(path)
        doc = ctx.read.doc(yf) if yf is not None and yf.kind == MODEL_POSITION else None
        if doc is None or not isinstance(doc.root, YSeq):
            continue
        known = names.get((provider.path, type_key), [])
        mtype = MODEL_TYPE_KEYS[type_key]
        unknown = [item for item in doc.root.items if _text(item) is not None and _text(item) not in known]
        if not unknown:
            continue
        if _position_key(ctx.read, provider, type_key) is None:
            # The daemon reads the order only from the file `position` names: this one orders nothing at all.
            models_key, _ = lookup(ctx.read.root(provider), ("models", type_key))
            yield POSITION_UNKNOWN.at(
                path,
                unknown[0].span,
                msg("the provider has no `models.{type_key}.position`, so the daemon never reads this file and it orders nothing ({count} of its entries name no {mtype} model either); add `position: {rel}` under `models.{type_key}`",
                    type_key=type_key, count=len(unknown), mtype=mtype, rel=ctx.plugin.relative(path)),
                related=[Related(provider.path, g.span, msg("the glob that loads it")) for g in ctx.plugin.model_globs if path in g.matches][:1],
            )
            continue
        for item in unknown:
            name = _text(item)
            folded = _folded_names(item, known)
            if folded:
                yield POSITION_UNKNOWN.at(
                    path,
                    item.span,
                    msg("this entry is one name made of {count} lines: they are indented deeper than its `-`, so YAML folds them into it and none of them orders anything; start each line with `- ` at the same indentation", count=len(folded)),
                )
                continue
            options = suggest(name, known)
            yield POSITION_UNKNOWN.at(
                path,
                item.span,
                msg("no {mtype} model named '{name}'{did_you_mean}: this entry orders nothing", mtype=mtype, name=name, did_you_mean=did_you_mean(options)),
                suggestions=options,
            )


@check(UNKNOWN_TEMPLATE)
def parameter_templates_exist(ctx: CheckContext) -> Iterator[Finding]:
    for yf in ctx.plugin.yaml_of_kind(MODEL):
        rules, _ = lookup(ctx.read.root(yf), ("parameter_rules",))
        if not isinstance(rules, YSeq):
            continue
        for rule in rules.items:
            if not isinstance(rule, YMap):
                continue
            node = rule.get("use_template")
            name = _text(node)
            if name is None or name in PARAMETER_TEMPLATES:
                continue
            options = suggest(name, list(PARAMETER_TEMPLATES))
            yield UNKNOWN_TEMPLATE.at(
                yf.path,
                node.span,
                msg('\'{name}\' is not a parameter template{did_you_mean}: the daemon refuses the model ("use_template {name} not found") and the SDK ignores it. Templates: {names}', name=name, did_you_mean=did_you_mean(options), names=Listing(PARAMETER_TEMPLATES)),
                suggestions=options,
            )


@check(MISSING_MODEL_CLASS)
def model_types_have_classes(ctx: CheckContext) -> Iterator[Finding]:
    from dify_lsp.analysis.modules import PluginClass
    from dify_lsp.analysis.plugin import python_of  # the one reading of the plugin's Python

    for provider in ctx.plugin.yaml_of_kind(MODEL_PROVIDER):
        if ctx.read.root(provider) is None:
            continue
        supported, seq = _supported(ctx.read, provider)
        wanted = {t for t in supported if t in MODEL_CLASS_BASES}
        if not wanted or seq is None:
            continue
        node, _ = lookup(ctx.read.root(provider), ("extra", "python", "model_sources"))
        refs = [r for r in ctx.plugin.refs_from(provider.path) if r.key == ("extra", "python", "model_sources")]
        if any(not r.exists or r.target is None for r in refs):
            continue  # a missing file is reported as such
        graph = python_of(ctx).graph
        served: set[str] = set()
        for ref in refs:
            scan = graph.scans.get(ref.target)
            if scan is None or not scan.parsed or scan.syntax_error is not None:
                return  # cannot know
            classes, star = graph.namespace_classes(ref.target)
            if star:
                return
            for cls in classes:
                if isinstance(cls, PluginClass):
                    anc = graph.ancestry(cls.path, cls.info)
                    if anc.unknown:
                        return  # a base we cannot follow may serve any type
                    kinds, name = anc.kinds, cls.info.name
                else:  # an SDK class imported into the module counts when it is a strict subclass
                    kinds, name = set(cls.kinds), cls.name
                served |= {t for t, base in MODEL_CLASS_BASES.items() if base in kinds and name != base}
        for mtype in sorted(wanted - served):
            item = next((i for i in seq.items if _text(i) == mtype), seq)
            yield MISSING_MODEL_CLASS.at(
                provider.path,
                item.span,
                msg("the provider offers {mtype} models, but no {MODEL_CLASS_BASES} subclass is in its model sources ({where}): the SDK registers model classes by type, so every {mtype} call (and a credential check through it) fails with KeyError", mtype=mtype, MODEL_CLASS_BASES=MODEL_CLASS_BASES[mtype], where=Listing(r.raw for r in refs))
                if refs else msg("the provider offers {mtype} models, but `extra.python.model_sources` names no file, so no {MODEL_CLASS_BASES} subclass serves them: the SDK registers model classes by type, so every {mtype} call (and a credential check through it) fails with KeyError", mtype=mtype, MODEL_CLASS_BASES=MODEL_CLASS_BASES[mtype]),
                related=[Related(r.owner, ctx.read.span(r), msg("model source")) for r in refs],
            )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (TYPE_FOLDER, TYPE_UNSUPPORTED, POSITION_UNKNOWN, UNKNOWN_TEMPLATE, MISSING_MODEL_CLASS)
CHECKS = (model_types_agree, positions_name_models, parameter_templates_exist, model_types_have_classes)
