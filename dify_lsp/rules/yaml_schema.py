"""Schema of plugin YAML files (family "schema", DL1xx).

One walker follows each YAML file alongside its schema from
:mod:`dify_lsp.schema.plugin_files` and reports what the SDK 0.10.2 or the
daemon rejects.  Results are cached per parsed document, so an edit
re-validates only the edited file.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from packaging.version import InvalidVersion, Version

from dify_lsp.caches import Caches
from dify_lsp.findings import Finding, Fix, Related, Severity, TextEdit
from dify_lsp.i18n import Listing, Message, msg
from dify_lsp.index import Reader, YamlFile
from dify_lsp.rules import CheckContext, check, define_rule, did_you_mean, suggest
from dify_lsp.schema import plugin_files as pf
from dify_lsp.schema.model import (
    ANY,
    BOOLEAN,
    DATETIME,
    DECIMAL,
    INTEGER,
    NUMBER,
    SCALAR,
    STRING,
    Either,
    Field,
    ListOf,
    MapOf,
    Obj,
    Scalar,
    SchemaType,
    type_title_message,
)
from dify_lsp.schema.references import MANIFEST
from dify_lsp.textpos import Span
from dify_lsp.yamlpos import YamlDocument, YMap, YNode, YPair, YScalar, YSeq, same_places, shifted_span

FAMILY = "schema"

MISSING = define_rule("DL101", "missing-required-field", "A required key is missing from a mapping in any plugin YAML (manifest, provider, tool, model, endpoint, agent strategy, datasource, trigger or event).", Severity.ERROR, FAMILY)
WRONG_TYPE = define_rule("DL102", "wrong-type", "A value in any plugin YAML (manifest, provider, tool, model, endpoint, agent strategy, datasource, trigger or event) has the wrong type (e.g. a list where a mapping is expected, a number where text is expected).", Severity.ERROR, FAMILY)
PATTERN = define_rule("DL103", "pattern-mismatch", "A value does not match the required format (manifest.yaml: lowercase author, plugin name, three-part version; provider, tool, strategy, datasource and trigger YAMLs: identity name).", Severity.ERROR, FAMILY)
ENUM = define_rule("DL104", "invalid-value", "A value in any plugin YAML (manifest, provider, tool, model, endpoint, agent strategy, datasource, trigger or event) is not one of the allowed values (parameter type, form, tags, arch, runner language, ...).", Severity.ERROR, FAMILY)
UNKNOWN_KEY = define_rule("DL105", "unknown-key", "A key in any plugin YAML (manifest, provider, tool, model, endpoint, agent strategy, datasource, trigger or event) that the schema does not define (often a typo; it is ignored).", Severity.WARNING, FAMILY)
BOUNDS = define_rule("DL106", "out-of-bounds", "A number or length in any plugin YAML (manifest, provider, tool, model, endpoint, agent strategy, datasource, trigger or event) is outside its allowed range (storage size, icon path length, option count, ...).", Severity.ERROR, FAMILY)
MULTIPLE = define_rule("DL107", "multiple-default", "In a tool, agent strategy, datasource, trigger or event parameter: `multiple` on a type other than select/dynamic-select, or `default` not a list exactly when `multiple` is true.", Severity.ERROR, FAMILY)
PLUGIN_KINDS = define_rule("DL108", "plugin-kinds", "manifest.yaml declares no plugin kind, or combines kinds the daemon refuses to combine.", Severity.ERROR, FAMILY)
RENAMED = define_rule("DL109", "renamed-value", "A value in a tool, agent strategy, datasource, trigger or event YAML that the SDK renamed (date-picker is date-range since 0.10.2).", Severity.ERROR, FAMILY)
I18N_EN_US = define_rule("DL110", "i18n-en-us", "A translated text (label, description, ...) in any plugin YAML (manifest, provider, tool, model, endpoint, agent strategy, datasource, trigger or event) without its required `en_US` entry.", Severity.ERROR, FAMILY)
I18N_NOT_LANGUAGE = define_rule("DL111", "i18n-non-language-key", "A translated text in any plugin YAML (manifest, provider, tool, model, endpoint, agent strategy, datasource, trigger or event) holds a key that is not a language code (e.g. `required: true` or `url:` indented under `label:`): the SDK and the daemon drop it.", Severity.WARNING, FAMILY)
REJECTED_KEY = define_rule("DL112", "rejected-key", "A key that the SDK refuses in a mapping whose keys are fixed (a model YAML's `model_properties`): the file fails to load.", Severity.ERROR, FAMILY)


@dataclass(slots=True)
class ParamSite:
    """A parameter / credential / setting mapping found while validating."""

    node: YMap
    schema: Obj
    path: tuple[str | int, ...]

    def value(self, key: str) -> YNode | None:
        return self.node.get(key)

    def text(self, key: str) -> str | None:
        v = self.node.get(key)
        return v.value if isinstance(v, YScalar) and isinstance(v.value, str) else None


@dataclass(slots=True)
class ItemResult:
    """What walking one list item gave: its findings and parameter sites."""

    node: YNode
    schema: SchemaType
    fld: Field | None
    where: tuple[str | int, ...]
    anchor: Span
    findings: list[Finding]
    params: list[ParamSite]


@dataclass(slots=True)
class SchemaResult:
    findings: list[Finding] = field(default_factory=list)
    params: list[ParamSite] = field(default_factory=list)
    # id(item) -> what each list item gave, for validating the file's next text: a parse after an edit
    # keeps the nodes the edit did not touch (yamlpos.reparse_yaml), and an item that is the same node
    # at the same place gives the same findings.
    items: dict[int, ItemResult] = field(default_factory=dict, repr=False)
    reused: int = 0  # how many list items were taken from the previous validation


def schema_result(read: Reader, yf: YamlFile, caches: Caches) -> SchemaResult:
    """Validate one YAML file against its kind's schema (kept per parsed document in ``caches.schema_results``)."""
    doc = read.doc(yf)
    if doc is None or doc.root is None:
        return SchemaResult()
    key = (yf.path, yf.kind)
    hit = caches.schema_results.get(key)
    if hit is not None and hit[0] is doc:
        return hit[1]
    result = validate_document(yf.path, yf.kind, doc, hit[1] if hit is not None else None)
    caches.schema_results.put(key, (doc, result))
    return result


def validate_document(path: Path, kind: str, doc: YamlDocument, previous: SchemaResult | None = None) -> SchemaResult:
    """Validate ``doc``; with ``previous`` (the same file's last validation), list items that are the very
    nodes validated then are not walked again."""
    schema = pf.schema_for(kind)
    result = SchemaResult()
    if schema is None or doc.root is None:
        return result
    walker = _Walker(path, result, previous.items if previous is not None else {}, doc.moved)
    root = doc.root
    anchor = root.pairs[0].key.span if isinstance(root, YMap) and root.pairs else root.span
    walker.kind = kind
    walker.walk(root, schema, None, (), anchor)
    if kind == MANIFEST and isinstance(root, YMap):
        walker.plugin_kinds(root)
    return result


# -- helpers -----------------------------------------------------------------

def _is_null(node: YNode) -> bool:
    return isinstance(node, YScalar) and node.value is None and node.tag.endswith(":null")


def _shape(node: YNode) -> str:
    if isinstance(node, YMap):
        return msg("a mapping")
    if isinstance(node, YSeq):
        return msg("a list")
    if isinstance(node, YScalar):
        v = node.value
        if v is None:
            return msg("an empty value")
        if isinstance(v, bool):
            return msg("the boolean {raw}", raw=node.raw)
        if isinstance(v, (int, float)):
            return msg("the number {raw}", raw=node.raw)
        return msg("the text '{raw}'", raw=node.raw) if len(node.raw) <= 40 else msg("text")
    return msg("a value")


_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)?)?$")


def _scalar_ok(kind: str, node: YScalar) -> bool:
    v = node.value
    if kind in (ANY, SCALAR):
        return True
    if kind == STRING:
        return isinstance(v, str)
    if kind == BOOLEAN:
        return isinstance(v, bool)
    if kind == INTEGER:
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == NUMBER:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if kind == DATETIME:
        return isinstance(v, str) and bool(_DATETIME_RE.match(v.strip()))
    if kind == DECIMAL:
        if isinstance(v, bool):
            return False
        if isinstance(v, (int, float)):
            return True
        if isinstance(v, str):
            try:
                decimal.Decimal(v.strip())
            except decimal.InvalidOperation:
                return False
            return True
        return False
    return True


def _matches(t: SchemaType, node: YNode) -> bool:
    if isinstance(t, (Obj, MapOf)):
        return isinstance(node, YMap)
    if isinstance(t, ListOf):
        return isinstance(node, YSeq)
    if isinstance(t, Scalar):
        return t.kind == ANY or isinstance(node, YScalar)
    return any(_matches(o, node) for o in t.options)


def _moved_finding(f: Finding, delta: int) -> Finding:
    """``f`` with every place it names ``delta`` lines further down (its file's text moved, not changed)."""
    return dataclasses.replace(
        f,
        span=shifted_span(f.span, delta),
        related=tuple(dataclasses.replace(r, span=shifted_span(r.span, delta)) for r in f.related),
        fixes=tuple(dataclasses.replace(x, edits=tuple(dataclasses.replace(e, span=shifted_span(e.span, delta)) for e in x.edits)) for x in f.fixes),
    )


def _key_fix(path: Path, pair: YPair, new: str) -> Fix:
    return Fix(msg("Rename '{key_text}' to '{new}'", key_text=pair.key_text, new=new), (TextEdit(path, pair.key.span, new),))


def _value_fix(path: Path, node: YScalar, new: str, title: str, preferred: bool = True) -> Fix:
    return Fix(title, (TextEdit(path, node.span, new),), preferred)


def _version_fix(raw: str) -> str | None:
    m = re.fullmatch(r"(\d{1,4})(?:\.(\d{1,4}))?", raw.strip())
    if not m:
        return None
    return f"{m.group(1)}.{m.group(2) or 0}.0"


class _Walker:
    def __init__(self, path: Path, result: SchemaResult, known: dict[int, ItemResult], moved: dict | None = None) -> None:
        self.kind: str | None = None
        self.path = path
        self.result = result
        self.out = result.findings
        self.known = known
        self.moved = moved or {}

    def _known(self, item: YNode, t: SchemaType, fld: Field | None, at: tuple[str | int, ...], anchor: Span) -> ItemResult | None:
        """What walking ``item`` gave last time: the same node at the same place, or the node it is a copy of
        moved some lines (then its findings and parameter sites are moved along)."""
        known = self.known.get(id(item))
        if known is not None and known.node is item and known.schema is t and known.fld is fld and known.where == at and known.anchor == anchor:
            return known
        moved = self.moved.get(id(item))
        if moved is None or moved[0] is not item:
            return None
        old, delta = moved[1], moved[2]
        known = self.known.get(id(old))
        if known is None or known.node is not old or known.schema is not t or known.fld is not fld or known.where != at:
            return None
        if shifted_span(known.anchor, delta) != anchor:
            return None
        places = same_places(old, item) if any(site.node is not old for site in known.params) else {id(old): item}
        return ItemResult(
            item, t, fld, at, anchor,
            [_moved_finding(f, delta) for f in known.findings],
            [ParamSite(places[id(site.node)], site.schema, site.path) for site in known.params],  # type: ignore[arg-type]
        )

    # -- dispatch ----------------------------------------------------------
    def walk(self, node: YNode, t: SchemaType, fld: Field | None, where: tuple[str | int, ...], anchor: Span) -> None:
        if isinstance(t, Either):
            for opt in t.options:
                if _matches(opt, node):
                    self.walk(node, opt, fld, where, anchor)
                    return
            self._wrong_type(node, t, fld, where)
            return
        if isinstance(t, Obj):
            if not isinstance(node, YMap):
                self._wrong_type(node, t, fld, where)
                return
            if fld is not None and fld.empty_is_default and not node.pairs:
                return
            self.obj(node, t, where, anchor)
        elif isinstance(t, ListOf):
            if not isinstance(node, YSeq):
                self._wrong_type(node, t, fld, where)
                return
            self.seq(node, t, fld, where)
        elif isinstance(t, MapOf):
            if not isinstance(node, YMap):
                self._wrong_type(node, t, fld, where)
                return
            for pair in node.pairs:
                name = pair.key_text
                if name is None or _is_null(pair.value):
                    continue
                self.walk(pair.value, t.value, None, (*where, name), pair.key.span)
        else:
            self.scalar(node, t, fld, where)

    def _label(self, where: tuple[str | int, ...]) -> str:
        parts: list[str] = []
        for w in where:
            if isinstance(w, int):
                parts.append(f"[{w}]")
            else:
                parts.append(("." if parts else "") + w)
        return "".join(parts) or "document"

    def _wrong_type(self, node: YNode, t: SchemaType, fld: Field | None, where: tuple[str | int, ...]) -> None:
        name = self._label(where)
        self.out.append(WRONG_TYPE.at(self.path, node.span, msg("`{name}` must be {article}, not {shape}", name=name, article=_article(type_title_message(t)), shape=_shape(node))))

    # -- mappings ----------------------------------------------------------
    def obj(self, node: YMap, t: Obj, where: tuple[str | int, ...], anchor: Span) -> None:
        present: set[str] = set()
        for pair in node.pairs:
            key = pair.key_text
            if key is None:
                continue
            fld = t.field(key)
            if fld is None and key in t.aliases:
                fld = t.field(t.aliases[key])
            if fld is None:
                if t.tolerated_keys is not None and re.match(t.tolerated_keys, key) and not (t is pf.I18N and _is_schema_key(key)):
                    continue
                if t.rejects_unknown:
                    allowed = Listing(f.name for f in t.fields)
                    options = suggest(key, [f.name for f in t.fields])
                    self.out.append(REJECTED_KEY.at(self.path, pair.key.span, msg("`{key}` is not allowed in `{where}`{did_you_mean}: {rejects_unknown}. Allowed keys: {allowed}", key=key, where=self._label(where), did_you_mean=did_you_mean(options), rejects_unknown=Message(t.rejects_unknown), allowed=allowed), fixes=[_key_fix(self.path, pair, o) for o in options[:1]], suggestions=options))
                elif t is pf.I18N:
                    self.out.append(I18N_NOT_LANGUAGE.at(self.path, pair.key.span, msg("`{key}` is not a language code, so `{where}` drops it: the SDK and the daemon read only languages here (is `{key}` indented one level too deep?)", key=key, where=self._label(where))))
                elif not t.open:
                    self._unknown_key(pair, t, node, where)
                continue
            present.add(fld.name)
            if fld.ignored:
                continue  # read by neither the SDK nor the daemon: any value is lost the same way
            if _is_null(pair.value):
                if fld.required and not fld.nullable:
                    self.out.append(WRONG_TYPE.at(self.path, pair.key.span, msg("`{label}` is required and must be {article}, but it is empty", label=self._label((*where, key)), article=_article(type_title_message(fld.type)))))
                elif not fld.nullable and not fld.ignored and not (isinstance(fld.type, Scalar) and fld.type.kind == ANY):
                    # The SDK's models take None only where the field says so (`X | None`).
                    self.out.append(WRONG_TYPE.at(self.path, pair.key.span, msg("`{label}` is empty: it must be {article} or be left out (the SDK refuses an empty value here)", label=self._label((*where, key)), article=_article(type_title_message(fld.type)))))
                continue
            self.walk(pair.value, fld.type, fld, (*where, key), pair.key.span)
        for name in t.required_names:
            if name in present:
                continue
            if t is pf.I18N:
                self.out.append(I18N_EN_US.at(self.path, anchor, msg("`{where}` needs an `en_US` text (the required language; others fall back to it)", where=self._label(where))))
                continue
            fld = t.by_name[name]
            what = msg("`{name}` ({doc})", name=name, doc=Message(fld.doc)) if fld.doc else f"`{name}`"
            location = f"`{self._label(where)}`" if where else msg("the {title}", title=Message(t.title))
            self.out.append(MISSING.at(self.path, anchor, msg("missing required key {what} in {location}", what=what, location=location)))
        if t.role == "parameter_rule":
            self.parameter_rule(node, t, where, anchor, present)
        elif t.role is not None:
            self.result.params.append(ParamSite(node, t, where))
            self.param_rules(node, t, where)

    def _unknown_key(self, pair: YPair, t: Obj, node: YMap, where: tuple[str | int, ...]) -> None:
        key = pair.key_text or ""
        taken = set(node.keys())
        # Only keys valid here: not already present (nor an alias of a present one), and read by someone.
        candidates = [f.name for f in t.fields if f.name not in taken and not f.ignored]
        candidates += [a for a, target in t.aliases.items() if a not in taken and target not in taken]
        options = suggest(key, candidates)
        fixes = [_key_fix(self.path, pair, o) for o in options[:1]] if len(options) >= 1 else []
        known = Listing(f.name for f in t.fields if not f.ignored)
        message = msg("unknown key `{key}` in {value}{did_you_mean}; it is ignored. Known keys: {known}", key=key, value=('`' + self._label(where) + '`') if where else msg("the {title}", title=Message(t.title)), did_you_mean=did_you_mean(options), known=known)
        self.out.append(UNKNOWN_KEY.at(self.path, pair.key.span, message, fixes=fixes, suggestions=options))

    # -- lists -------------------------------------------------------------
    def seq(self, node: YSeq, t: ListOf, fld: Field | None, where: tuple[str | int, ...]) -> None:
        if fld is not None and fld.max_items is not None and len(node.items) > fld.max_items:
            self.out.append(BOUNDS.at(self.path, node.span, msg("`{where}` has {n_items} items; at most {max_items} are allowed", where=self._label(where), n_items=len(node.items), max_items=fld.max_items)))
        for i, item in enumerate(node.items):
            if _is_null(item) and not (isinstance(t.item, Scalar) and t.item.kind == ANY):
                # pydantic refuses None in a list of strings / objects (e.g. "tool path should be a string").
                self.out.append(WRONG_TYPE.at(self.path, item.span, msg("`{label}` must be {article}, not an empty value", label=self._label((*where, i)), article=_article(type_title_message(t.item)))))
                continue
            anchor = item.pairs[0].key.span if isinstance(item, YMap) and item.pairs else item.span
            if isinstance(item, YMap) and isinstance(t.item, Obj) and t.item.role:
                name = item.get("name")
                if isinstance(name, YScalar):
                    anchor = name.span
            at = (*where, i)
            known = self._known(item, t.item, fld, at, anchor)
            if known is not None:
                self.out.extend(known.findings)
                self.result.params.extend(known.params)
                self.result.items[id(item)] = known
                self.result.reused += 1
                continue
            n_findings, n_params = len(self.out), len(self.result.params)
            self.walk(item, t.item, fld, at, anchor)
            self.result.items[id(item)] = ItemResult(item, t.item, fld, at, anchor, self.out[n_findings:], self.result.params[n_params:])

    # -- scalars -----------------------------------------------------------
    def scalar(self, node: YNode, t: Scalar, fld: Field | None, where: tuple[str | int, ...]) -> None:
        name = self._label(where)
        if t.kind == ANY:
            return
        if not isinstance(node, YScalar):
            self._wrong_type(node, t, fld, where)
            return
        if _is_null(node):
            return
        ok = _scalar_ok(t.kind, node)
        if not ok:
            if t.kind == STRING and fld is not None and fld.regex is not None and not fld.regex.match(node.raw):
                self.pattern(node, fld, name)
                return
            fixes = []
            if t.kind == STRING and not node.style:
                fixes.append(_value_fix(self.path, node, f'"{node.raw}"', msg('Quote the value: "{raw}"', raw=node.raw)))
            hint = msg(" (quote it to keep it as text)") if t.kind == STRING else ""
            self.out.append(WRONG_TYPE.at(self.path, node.span, msg("`{name}` must be {article}, not {shape}{hint}", name=name, article=_article(Message(t.title)), shape=_shape(node), hint=hint), fixes=fixes))
            return
        if fld is None:
            return
        text = node.value if isinstance(node.value, str) else node.raw
        if fld.enum is not None and isinstance(node.value, str):
            if not self.enum(node, fld, name):
                return
        if fld.regex is not None and isinstance(node.value, str) and not fld.regex.match(text):
            self.pattern(node, fld, name)
            return
        if fld.pep440 and isinstance(node.value, str) and not _is_pep440(text):
            self.out.append(PATTERN.at(self.path, node.span, msg('`{name}` is \'{text}\', which is not a PEP 440 version: the SDK refuses the manifest ("Invalid version format"); use a suffix such as 1.0.0-beta1 or 1.0.0-1', name=name, text=text)))
            return
        if fld.max_length is not None and len(text) > fld.max_length:
            self.out.append(BOUNDS.at(self.path, node.span, msg("`{name}` is {n_text} characters long; at most {max_length} are allowed", name=name, n_text=len(text), max_length=fld.max_length)))
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            v = node.value
            if fld.minimum is not None and v < fld.minimum or fld.maximum is not None and v > fld.maximum:
                self.out.append(BOUNDS.at(self.path, node.span, msg("`{name}` is {raw}; it must be between {low} and {high} ({doc})", name=name, raw=node.raw, low=_num(fld.minimum), high=_num(fld.maximum), doc=Message(fld.doc))))

    def enum(self, node: YScalar, fld: Field, name: str) -> bool:
        value = node.value
        assert fld.enum is not None
        if value in fld.enum:
            return True
        if value in fld.rejected_values:
            self.out.append(ENUM.at(self.path, node.span, msg("`{name}` cannot be '{value}': {rejected_values}. Allowed values are {names}", name=name, value=value, rejected_values=Message(fld.rejected_values[value]), names=Listing(fld.enum))))
            return False
        if value in fld.renamed_values:
            new = fld.renamed_values[value]
            since = fld.removed_in.get(value)
            said = (msg("`{value}` was renamed to `{new}` in SDK {since}; use `{new}`", value=value, new=new, since=since) if since
                    else msg("`{value}` was renamed to `{new}`; use `{new}`", value=value, new=new))
            self.out.append(
                RENAMED.at(self.path, node.span, said, fixes=[_value_fix(self.path, node, new, msg("Rename '{value}' to '{new}'", value=value, new=new))])
            )
            return False
        if fld.suggest_only:
            return True
        options = suggest(value, list(fld.enum))
        fixes = [_value_fix(self.path, node, options[0], msg("Change to '{options}'", options=options[0]), preferred=len(options) == 1)] if options else []
        allowed = Listing(fld.enum)
        self.out.append(ENUM.at(self.path, node.span, msg("`{name}` cannot be '{value}'{did_you_mean}: allowed values are {allowed}", name=name, value=value, did_you_mean=did_you_mean(options), allowed=allowed), fixes=fixes))
        return False

    def pattern(self, node: YScalar, fld: Field, name: str) -> None:
        raw = node.value if isinstance(node.value, str) else node.raw
        fixes: list[Fix] = []
        if fld.pattern == pf.AUTHOR_PATTERN and raw.lower() != raw and fld.regex and fld.regex.match(raw.lower()):
            fixes.append(_value_fix(self.path, node, raw.lower(), msg("Lowercase the author: {lower}", lower=raw.lower())))
        if fld.pattern == pf.VERSION_PATTERN:
            fixed = _version_fix(raw)
            if fixed:
                fixes.append(_value_fix(self.path, node, fixed, msg("Use the three-part version {fixed}", fixed=fixed)))
        self.out.append(PATTERN.at(self.path, node.span, msg("`{name}` is '{raw}' but must be {pattern_doc}", name=name, raw=raw, pattern_doc=Message(fld.pattern_doc)), fixes=fixes))

    # -- cross-key rules -----------------------------------------------------
    def param_rules(self, node: YMap, t: Obj, where: tuple[str | int, ...]) -> None:
        type_node = node.get("type")
        ptype = type_node.value if isinstance(type_node, YScalar) and isinstance(type_node.value, str) else None
        if ptype is None:
            return
        mpair = node.pair("multiple")
        multiple = isinstance(mpair.value, YScalar) and mpair.value.value is True if mpair else False
        supports = ptype in pf.MULTIPLE_TYPES
        label = self._label(where)
        if t.role == "parameter" and t.field("multiple") is not None:
            if multiple and not supports:
                self.out.append(
                    MULTIPLE.at(
                        self.path,
                        mpair.key.span,
                        msg("`multiple` is only valid for select and dynamic-select parameters, not `{ptype}` ({label})", ptype=ptype, label=label),
                        related=[Related(self.path, type_node.span, msg("the parameter type"))],
                    )
                )
                return
            dpair = node.pair("default")
            if supports and dpair is not None and not _is_null(dpair.value):
                is_list = isinstance(dpair.value, YSeq)
                if is_list != multiple:
                    message = (
                        msg("`default` must be a list because `multiple` is true")
                        if multiple
                        else msg("`default` must be a single value, not a list, because `multiple` is not true")
                    )
                    self.out.append(MULTIPLE.at(self.path, dpair.value.span, msg("{message} ({label})", message=message, label=label)))

    def parameter_rule(self, node: YMap, t: Obj, where: tuple[str | int, ...], anchor: Span, present: set[str]) -> None:
        """A model parameter rule needs a `type` unless `use_template` names an SDK template."""
        if "type" in present:
            return
        template = node.get("use_template")
        name = template.value if isinstance(template, YScalar) else None
        if isinstance(name, str) and name in pf.PARAMETER_TEMPLATES:
            return
        why = msg("`use_template: {name}` is not an SDK template", name=name) if isinstance(name, str) else msg("there is no `use_template`")
        self.out.append(MISSING.at(self.path, anchor, msg("missing required key `type` in `{where}`: {why}, so nothing fills it in and the SDK refuses the model", where=self._label(where), why=why)))

    def plugin_kinds(self, root: YMap) -> None:
        ppair = root.pair("plugins")
        if ppair is None or not isinstance(ppair.value, YMap):
            return
        declared: list[YPair] = []
        for pair in ppair.value.pairs:
            if pair.key_text in pf.PLUGIN_KINDS and isinstance(pair.value, YSeq) and pair.value.items:
                declared.append(pair)
        if not declared:
            kinds = Listing(pf.PLUGIN_KINDS)
            self.out.append(PLUGIN_KINDS.at(self.path, ppair.key.span, msg("`plugins` must list at least one provider file under one of: {kinds}", kinds=kinds)))
            return
        if len(declared) < 2:
            return
        names = [p.key_text for p in declared]
        for pair in declared:
            key = pair.key_text
            if key in pf.EXCLUSIVE_PLUGIN_KINDS:
                others = [n for n in names if n != key]
                self.out.append(
                    PLUGIN_KINDS.at(
                        self.path,
                        pair.key.span,
                        msg("`plugins.{key}` cannot be combined with {names}: a plugin with {key} declares nothing else (only tools + endpoints may be combined)", key=key, names=Listing(others)),
                        related=[Related(self.path, p.key.span, msg("also declared: {key_text}", key_text=p.key_text)) for p in declared if p is not pair],
                    )
                )


@functools.cache  # a constant of the schema tables, not of any input
def _schema_keys() -> frozenset[str]:
    return frozenset(f.name for f in pf.all_fields()) - {f.name for f in pf.I18N.fields}


def _is_schema_key(key: str) -> bool:
    """A key some plugin YAML mapping defines (`url`, `min`, `max`, ...): under a translated text it is a
    key indented one level too deep, not a language code, even when it looks like one."""
    return key in _schema_keys()


def _is_pep440(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _num(v: float | None) -> str:
    if v is None:
        return "any"
    return str(int(v)) if float(v).is_integer() else str(v)


def _article(title: str) -> str:
    """"a list of string", "an integer" (a message: the title is said in the user's language too)."""
    if str(title).startswith(("list", "mapping")) or str(title)[:1].lower() not in "aeiou":
        return msg("a {type}", type=title)
    return msg("an {type}", type=title)


SCHEMA_RULES = (MISSING, WRONG_TYPE, PATTERN, ENUM, UNKNOWN_KEY, BOUNDS, MULTIPLE, PLUGIN_KINDS, RENAMED, I18N_EN_US, I18N_NOT_LANGUAGE, REJECTED_KEY)


@check(*SCHEMA_RULES)
def yaml_files_match_schema(ctx: CheckContext) -> Iterator[Finding]:
    for yf in ctx.plugin.yaml_files.values():
        doc = ctx.read.doc(yf)
        if doc is None or doc.root is None:
            continue
        yield from schema_result(ctx.read, yf, ctx.index.caches).findings
    # Tool YAMLs that no provider lists are checked as tools too (a misspelt key in them is not silent),
    # but neither the SDK nor the daemon reads them yet: what would fail is a warning at most.
    for yf in ctx.plugin.loose_tools:
        doc = ctx.read.doc(yf)
        if doc is None or doc.root is None:
            continue
        for f in schema_result(ctx.read, yf, ctx.index.caches).findings:
            yield dataclasses.replace(
                f,
                severity=max(f.severity, Severity.WARNING),
                message=msg("{message} (this tool is not listed in any provider, see DL003, so nothing reads this file yet)", message=f.message),
            )


# What this family contributes to the registry (dify_lsp.rules.registry).
RULES = (MISSING, WRONG_TYPE, PATTERN, ENUM, UNKNOWN_KEY, BOUNDS, MULTIPLE, PLUGIN_KINDS, RENAMED, I18N_EN_US, I18N_NOT_LANGUAGE, REJECTED_KEY)
CHECKS = (yaml_files_match_schema,)
