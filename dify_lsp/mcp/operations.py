"""What the MCP tools do, over the engine: plain functions from validated inputs to JSON-able dicts.

Each function takes the server's language (messages in it, with ``message_en`` beside them where a finding is
reported, as ``check --format json`` does) and raises :class:`RequestError` when the input names something
that does not exist or cannot be used; the server turns that into an MCP error result. Only
:func:`apply_fix`, :func:`new_tool` and :func:`package` write files, and only the ones they were asked to.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from dify_lsp.findings import Finding
from dify_lsp.i18n import Listing, Message, msg, tr
from dify_lsp.index import CONTENTS, PluginIndex, find_plugin_roots, norm
from dify_lsp.plugin_fixes import FIXED_CODES, FixSite, PlannedFix, plugin_fixes
from dify_lsp.schema.references import KIND_TITLES, PYTHON, YAML_KINDS


class RequestError(Exception):
    """Input the engine cannot use; the message (a catalog message) says why and what would work."""

    def __init__(self, message: Message | str) -> None:
        super().__init__(str(message))
        self.message = message

    def text(self, language: str) -> str:
        return tr(self.message, language)


def _names(values: Iterable[str]) -> str:
    """Names as a list in the reader's language ("a, b" / "a、b"); "-" when there are none."""
    names = list(values)
    return Listing(names) if names else "-"


# -- plugins -------------------------------------------------------------------------------------------------


def _existing(path: str) -> Path:
    p = norm(path)
    if not p.exists():
        raise RequestError(msg("{path}: no such file or folder", path=path))
    return p


def _plugin_root(path: str) -> Path:
    """The plugin holding ``path`` (a plugin folder or any file or folder inside one)."""
    p = _existing(path)
    root = PluginIndex().root_for(p)
    if root is None:
        raise RequestError(msg("{path}: no Dify plugin (manifest.yaml) found", path=path))
    return root


def _settings(select: list[str], extend_select: list[str], ignore: list[str]) -> dict[str, Any]:
    from dify_lsp.config import parse_selectors

    settings: dict[str, Any] = {}
    for key, values in (("select", select), ("extendSelect", extend_select), ("ignore", ignore)):
        if not values:
            continue
        try:
            parse_selectors(values)
        except ValueError as exc:
            raise RequestError(exc.args[0] if exc.args else str(exc)) from None
        settings[key] = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return settings


# -- check -----------------------------------------------------------------------------------------------------


class _Fixes:
    """Every fix of a finding, in one numbering: the rule's own edits first, then the ones built from the plugin
    around it (:mod:`dify_lsp.plugin_fixes`: declare a parameter, list a tool, create a missing file...)."""

    def __init__(self, index: PluginIndex) -> None:
        self.index = index
        self.plugins: dict[Path, Any] = {}

    def of(self, finding: Finding) -> list[PlannedFix]:
        own = [PlannedFix(fix.title, tuple(fix.edits), {}, fix.preferred) for fix in finding.fixes]
        if finding.code not in FIXED_CODES:
            return own
        root = self.index.root_for(finding.path)
        if root is None:
            return own
        if root not in self.plugins:
            self.plugins[root] = self.index.plugin_at(root)
        text = self.index.source.read(finding.path).text
        if text is None:
            return own
        return own + plugin_fixes(FixSite(finding.path, text, self.plugins[root], self.index), finding)


def _fix_entries(fixes: list[PlannedFix], language: str) -> list[dict[str, Any]]:
    return [
        {"fix": i, "title": tr(fix.title, language), "preferred": fix.preferred,
         "files": sorted({str(e.path) for e in fix.edits} | {str(p) for p in fix.files}),
         **({"creates": sorted(str(p) for p in fix.files)} if fix.files else {})}
        for i, fix in enumerate(fixes)
    ]


def check(path: str, language: str, select: list[str] | None = None, extend_select: list[str] | None = None,
          ignore: list[str] | None = None, marketplace: bool = False, use_cache: bool = True) -> dict[str, Any]:
    """The findings of `dify-lsp check PATH --format json` (same rows, same fields; ``marketplace`` as
    ``--marketplace``, and a ``.difypkg`` is judged in place as there), each with the absolute ``file``, its
    ``fixes`` (what :func:`apply_fix` can write) and ``related`` places."""
    from dify_lsp.cache import ResultCache
    from dify_lsp.checker import check_roots
    from dify_lsp.report import Row, display_path, rows_of
    from dify_lsp.report.json_format import json_items
    from dify_lsp.textpos import utf16_col

    p = _existing(path)
    settings = _settings(select or [], extend_select or [], ignore or [])
    if marketplace:
        settings["marketplace"] = True
    index = PluginIndex()
    rows: list[Row] = []
    shown: set[tuple] = set()
    texts: dict[Path, tuple[str, ...]] = {}
    crashes: list[str] = []
    package = _package_findings(p, settings)
    if package is not None:
        findings, member_texts, crashes = package
        roots: list[Path] = []
        for f in findings:
            texts.setdefault(f.path, tuple(member_texts.get(f.path, "").split("\n")))
            rows.append(Row(display_path(path, p, f.path), f, texts[f.path], language))
        results = {}
    else:
        root = index.root_for(p)
        roots = [root] if root is not None else find_plugin_roots(p)
        if not roots:
            raise RequestError(msg("{path}: no Dify plugin (manifest.yaml) found", path=path))
        # One process: the server's worker thread is no place to fork a pool from. The marketplace family
        # judges the package's file listing, which the result cache does not record (as in `check`).
        cache = ResultCache() if use_cache and not marketplace else None
        results = check_roots(roots, settings, jobs=1, cache=cache)
    for r in roots:
        result = results[r]
        crashes.extend(result.crashes)
        rows.extend(rows_of(result.findings, path, p, lambda file: index.source.read(file).text, language, shown, texts))
    items = json_items(rows)

    def utf16_range(file: Path, span) -> dict[str, Any]:
        if file not in texts:
            texts[file] = tuple((index.source.read(file).text or "").split("\n"))
        lines = texts[file]

        def pos(at) -> dict[str, int]:
            return {"line": at.line, "character": utf16_col(lines[at.line] if at.line < len(lines) else "", at.col)}

        return {"start": pos(span.start), "end": pos(span.end)}

    fixes = _Fixes(index)
    for item, row in zip(items, rows):
        f = row.finding
        item["file"] = str(f.path)
        item["fixes"] = _fix_entries(fixes.of(f), language)
        if f.related:
            item["related"] = [{"file": str(rel.path), "range": utf16_range(rel.path, rel.span),
                                "message": tr(rel.message, language)} for rel in f.related]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.finding.severity.label] = counts.get(row.finding.severity.label, 0) + 1
    out: dict[str, Any] = {"plugins": [str(r) for r in roots], "findings": items, "counts": counts}
    if crashes:
        out["internal_errors"] = crashes
    return out


def _package_findings(p: Path, settings: dict[str, Any]):
    """A ``.difypkg`` judged in place by the marketplace family, or None for anything else."""
    from dify_lsp.checker import check_package_file
    from dify_lsp.rules.marketplace.package import is_package_file

    return check_package_file(p, settings) if is_package_file(p) else None


# -- rules -----------------------------------------------------------------------------------------------------


def explain_rule(code: str, language: str) -> dict[str, Any]:
    from dify_lsp.rules import did_you_mean, suggest
    from dify_lsp.rules.registry import RULES

    rule = RULES.get(code.strip().upper())
    if rule is None:
        hint = did_you_mean(suggest(code.strip(), list(RULES)))
        raise RequestError(msg("no rule '{code}'{hint}; every code is listed by `dify-lsp rules`", code=code, hint=hint))
    return {
        "code": rule.code, "name": rule.name, "severity": rule.severity.label, "family": rule.family,
        "description": tr(rule.description, language), "description_en": rule.description,
        "silence_on_a_line": f"# noqa: {rule.code}",
        "ignore_in_pyproject": f'[tool.dify-lsp]\nignore = ["{rule.code}"]',
    }


# -- session.* API ---------------------------------------------------------------------------------------------

_SESSION_PREFIX = re.compile(r"^(?:self\.)?(?:runtime\.)?(?:session\.?)?")


def _param(p, language: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "type": p.annotation, "required": p.required, "keyword_only": p.keyword_only}
    if p.default is not None:
        out["default"] = p.default
    if p.doc:
        out["description"] = tr(p.doc, language)
    if p.since:
        out["since"] = p.since
    if p.config_class:
        out["must_be"] = p.config_class
    return out


def _method(path: tuple[str, ...], m, language: str) -> dict[str, Any]:
    from dify_lsp.sdk import catalog

    out: dict[str, Any] = {
        "path": ".".join(("session", *path)), "kind": "method",
        "signature": m.signature(), "parameters": [_param(p, language) for p in m.params],
        "returns": m.returns, "description": tr(m.doc, language), "since": m.since, "sdk": m.sdk,
        "permission": [f"resource.permission.{k}" for k in m.permission],
        "permission_text": catalog.permission_text(m.wire, language),
    }
    if m.wire:
        out["wire_invoke_type"] = m.wire
    if m.example:
        out["example"] = m.example
    return out


def _members(t, language: str) -> list[dict[str, Any]]:
    from dify_lsp.sdk import catalog

    out = []
    for member in t.members():
        if member.name == "session":
            continue
        if isinstance(member, catalog.Method):
            out.append({"name": member.name, "kind": "method", "signature": member.signature(), "since": member.since})
        else:
            kind = "namespace" if member.type in catalog.TYPES else "attribute"
            out.append({"name": member.name, "kind": kind, "type": member.type, "since": member.since,
                        "description": tr(member.doc, language)})
    return out


def session_api(name: str, language: str) -> dict[str, Any]:
    """A ``session.*`` member (``model.llm.invoke``, ``self.session.storage``, ``session``) or an SDK model
    config class (``LLMModelConfig``): signature, parameters, return type, manifest permission, SDK release."""
    from dify_lsp.rules import did_you_mean, suggest
    from dify_lsp.sdk import catalog

    raw = name.strip()
    if raw in catalog.CONFIG_CLASSES:
        c = catalog.CONFIG_CLASSES[raw]
        return {"path": raw, "kind": "config_class", "module": c.module, "model_type": c.model_type,
                "signature": c.signature(), "fields": [_param(p, language) for p in c.fields], "description": tr(c.doc, language)}
    dotted = _SESSION_PREFIX.sub("", raw.replace("()", "").replace(" ", ""), count=1).strip(".")
    names = [n for n in dotted.split(".") if n]
    resolved, at = catalog.resolve(names)
    if resolved is None:
        where = catalog.resolve(names[:at])[0]
        here = where.type if where is not None else None
        options = [m.name for m in here.members()] if here is not None else []
        options = [o for o in options if o != "session"]
        known = ".".join(("session", *names[:at]))
        hint = did_you_mean(suggest(names[at], options)) if at < len(names) else ""
        # a bare method or namespace name: every path that ends with it
        ends = [".".join(("session", *path)) for path, _t, _m in catalog.walk_methods() if names and path[-len(names):] == tuple(names)]
        if ends:
            return {"path": raw, "kind": "matches", "matches": ends}
        raise RequestError(msg("`{known}` has no member '{name}'{hint}; its members: {members}",
                               known=known, name=names[at] if at < len(names) else "", hint=hint, members=_names(options)))
    member = resolved.member
    path = tuple(names)
    if isinstance(member, catalog.Method):
        return _method(path, member, language)
    t = resolved.type
    out: dict[str, Any] = {"path": ".".join(("session", *path)), "kind": "namespace" if t is not None else "attribute"}
    if member is None:
        t = catalog.session_type()
        out.update(type=t.name, description=tr(t.doc, language))
    else:
        out.update(type=member.type, description=tr(member.doc, language), since=member.since)
    if t is not None:
        out["sdk"] = t.sdk
        out["members"] = _members(t, language)
        perms = {}
        for sub, _owner, m in catalog.walk_methods_of(t):
            if m.wire:
                perms[".".join(("session", *path, *sub))] = [f"resource.permission.{k}" for k in m.permission]
        if perms:
            out["permissions_by_method"] = perms
    return out


# -- YAML keys -------------------------------------------------------------------------------------------------


def _key_steps(key: str) -> list[str]:
    return [s for s in re.split(r"\.|\[\d*\]", key.strip()) if s]


def _child_keys(t, language: str) -> list[dict[str, Any]]:
    from dify_lsp.schema.model import ListOf, object_options, type_title_message

    inner = t.item if isinstance(t, ListOf) else t
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for obj in object_options(inner):
        for f in obj.fields:
            if f.name in seen:
                continue
            seen.add(f.name)
            out.append({"key": f.name, "required": f.required, "type": tr(type_title_message(f.type), language)})
    return out


def yaml_key(language: str, key: str = "", kind: str | None = None, file: str | None = None) -> dict[str, Any]:
    """A key of a plugin YAML file kind: type, required, allowed values, format, bounds, SDK release, its keys."""
    from dify_lsp.schema import plugin_files as pf
    from dify_lsp.schema.model import Either, ListOf, type_title_message

    if file:
        p = _existing(file)
        root = _plugin_root(file)
        plugin = PluginIndex().plugin_at(root)
        found = plugin.kind_of(p)
        if found is None or found == PYTHON:
            raise RequestError(msg("{path} is not a YAML file of the plugin (the manifest does not lead to it); give the kind instead: {kinds}",
                                   path=file, kinds=_names(YAML_KINDS)))
        if kind and kind != found:
            raise RequestError(msg("{path} is a {found} file, not a {kind} file", path=file, found=found, kind=kind))
        kind = found
    if not kind:
        raise RequestError(msg("say which file: a kind ({kinds}) or a file", kinds=_names(YAML_KINDS)))
    if kind not in YAML_KINDS:
        raise RequestError(msg("unknown file kind '{kind}'; the kinds: {kinds}", kind=kind, kinds=_names(YAML_KINDS)))
    t = pf.schema_for(kind)
    fld = None
    walked: list[str] = []
    for step in _key_steps(key):
        if t is None:
            break
        if step.isdigit():  # parameters.0.type: the list is stepped through below anyway
            continue
        # through lists (parameters.type means the type of each parameter) and free-named maps
        while isinstance(t, ListOf) or (isinstance(t, Either) and pf.step_into(t, step)[0] is None and pf.step_into(t, 0)[0] is not None):
            t, _ = pf.step_into(t, 0)
        nxt, found_field = pf.step_into(t, step) if t is not None else (None, None)
        if nxt is None:
            options = [c["key"] for c in _child_keys(t, language)] if t is not None else []
            from dify_lsp.rules import did_you_mean, suggest

            raise RequestError(msg("a {kind} file has no key '{key}' under '{parent}'{hint}; keys there: {keys}",
                                   kind=kind, key=step, parent=".".join(walked) or msg("(top level)"),
                                   hint=did_you_mean(suggest(step, options)), keys=_names(options)))
        walked.append(step)
        t = nxt
        fld = found_field  # None under a name the author chooses (a credential's name): its type tells
    out: dict[str, Any] = {"kind": kind, "kind_title": tr(KIND_TITLES.get(kind, kind), language), "key": ".".join(walked)}
    if t is not None:
        out["type"] = tr(type_title_message(t), language)
    if fld is not None:
        out.update(required=fld.required, description=tr(fld.doc, language))
        if fld.enum:
            out["allowed_values"] = [{"value": v, "meaning": tr(d, language)} for v, d in fld.enum.items()]
            out["other_values_accepted"] = fld.suggest_only
        if fld.pattern:
            out["pattern"] = fld.pattern
        if fld.pattern_doc:
            out["format"] = tr(fld.pattern_doc, language)
        for name in ("minimum", "maximum", "max_length", "max_items"):
            if getattr(fld, name) is not None:
                out[name] = getattr(fld, name)
        out["since_sdk"] = fld.since
        if fld.renamed_values:
            out["renamed_values"] = [{"old": o, "new": n, "since_sdk": fld.removed_in.get(o, pf.SDK_VERSION)} for o, n in fld.renamed_values.items()]
        if fld.rejected_values:
            out["rejected_values"] = [{"value": v, "why": tr(w, language)} for v, w in fld.rejected_values.items()]
        if fld.path_kind:
            out["names_a_file_of_kind"] = fld.path_kind
        if fld.ignored:
            out["ignored_by_sdk"] = True
    if t is not None:
        children = _child_keys(t, language)
        if children:
            out["keys"] = children
    return out


# -- plugin parts ----------------------------------------------------------------------------------------------

_FORM_KEYS = ("parameters", "settings", "credentials_for_provider", "credentials_schema")


def _form(value: Any) -> list[dict[str, Any]]:
    """A declared form (list of fields, or a mapping of name -> field) as name/type/required rows."""
    fields: list[tuple[str, Any]] = []
    if isinstance(value, list):
        fields = [(str(f.get("name") or f.get("variable") or ""), f) for f in value if isinstance(f, dict)]
    elif isinstance(value, dict):
        fields = [(str(k), f) for k, f in value.items() if isinstance(f, dict)]
    out = []
    for name, f in fields:
        row = {"name": f.get("name") or f.get("variable") or name, "type": f.get("type"), "required": bool(f.get("required"))}
        if f.get("form"):
            row["form"] = f.get("form")
        if f.get("scope"):
            row["scope"] = f.get("scope")
        out.append(row)
    return out


def _plain(yf: Any) -> Any:
    """A YAML file of the index as plain data (None when it is unreadable or not valid YAML)."""
    if yf is None or CONTENTS.doc(yf) is None or CONTENTS.root(yf) is None:
        return None
    try:
        return CONTENTS.doc(yf).to_python()
    except ValueError:
        return None


def _part_name(kind: str, data: dict[str, Any]) -> str | None:
    if kind == "endpoint":
        return f"{str(data.get('method') or '').upper()} {data.get('path') or ''}".strip() or None
    if kind == "model":
        return data.get("model")
    if kind == "model_provider":
        return data.get("provider")
    if kind == "manifest":
        return data.get("name")
    identity = data.get("identity")
    return identity.get("name") if isinstance(identity, dict) else None


def plugin_parts(path: str, language: str) -> dict[str, Any]:
    """The plugin as the index reads it: manifest facts, every provider / tool / model / endpoint / strategy /
    datasource / trigger file with its name, Python source, declared form fields and the files it lists, and
    what `run` can run."""
    from dify_lsp.invocation.parameters import discover_tools

    root = _plugin_root(path)
    plugin = PluginIndex().plugin_at(root)
    manifest = _plain(plugin.manifest) or {}
    meta = manifest.get("meta") if isinstance(manifest.get("meta"), dict) else {}
    resource = manifest.get("resource") if isinstance(manifest.get("resource"), dict) else {}
    info: dict[str, Any] = {
        "name": manifest.get("name"), "author": manifest.get("author"), "version": manifest.get("version"),
        "type": manifest.get("type"), "permission": resource.get("permission"),
        "runner": meta.get("runner") if isinstance(meta, dict) else None,
    }
    parts = []
    runnable: list[dict[str, Any]] = []
    for yf in plugin.yaml_files.values():
        if yf.kind == "manifest":
            continue
        data = _plain(yf)
        entry: dict[str, Any] = {"kind": yf.kind, "title": tr(KIND_TITLES.get(yf.kind, yf.kind), language),
                                 "file": plugin.relative(yf.path)}
        if yf.problem:
            entry["problem"] = yf.problem
        if isinstance(data, dict):
            name = _part_name(yf.kind, data)
            if name:
                entry["name"] = name
            if yf.kind == "model" and data.get("model_type"):
                entry["model_type"] = data.get("model_type")
                runnable.append({"kind": "model", "target": f"{data.get('model_type')}/{data.get('model')}"})
            for k in _FORM_KEYS:
                if data.get(k):
                    entry[k] = _form(data.get(k))
            if yf.kind == "endpoint" and name:
                runnable.append({"kind": "endpoint", "target": name})
            elif yf.kind in ("agent_strategy", "datasource") and name:
                runnable.append({"kind": {"agent_strategy": "strategy"}.get(yf.kind, yf.kind), "target": name})
            elif yf.kind == "trigger_provider" and name:
                runnable.append({"kind": "trigger", "target": "dispatch", "provider": name})
        refs = plugin.refs_from(yf.path)
        sources = [plugin.relative(r.target) for r in refs if r.target_kind == PYTHON and r.target is not None]
        if sources:
            entry["python"] = sources
        lists = [plugin.relative(r.target) for r in refs if r.target_kind in YAML_KINDS and r.target is not None]
        if lists:
            entry["lists"] = lists
        parts.append(entry)
    for tool in discover_tools(root, plugin=plugin):
        runnable.insert(0, {"kind": "tool", "target": tool.tool, "provider": tool.provider})
    out = {"root": str(root), "manifest": info, "parts": parts,
           "python_files": sorted(plugin.relative(p) for p in plugin.python_files), "runnable": runnable}
    if plugin.loose_tools:
        out["tool_yamls_no_provider_lists"] = [plugin.relative(t.path) for t in plugin.loose_tools]
    return out


# -- quick fixes -----------------------------------------------------------------------------------------------


def apply_fix(path: str, code: str, language: str, line: int | None = None, character: int | None = None,
              fix: int = 0) -> dict[str, Any]:
    """Write one quick fix of one finding (found by file, code and, when the file has several, its start
    position as `check` reports it) and check again."""
    from dify_lsp.checker import check_root
    from dify_lsp.textpos import utf16_col
    from dify_lsp.yamledit import apply_edits

    p = _existing(path)
    if not p.is_file():
        raise RequestError(msg("{path} is not a file: give the file a finding is in", path=path))
    root = _plugin_root(path)
    code = code.strip().upper()
    index = PluginIndex()
    lines = tuple((index.source.read(p).text or "").split("\n"))

    def start(f: Finding) -> tuple[int, int]:
        text = lines[f.span.start.line] if f.span.start.line < len(lines) else ""
        return f.span.start.line, utf16_col(text, f.span.start.col)

    findings = [f for f in check_root(root).findings if f.path == p and f.code == code]
    if line is not None:
        findings = [f for f in findings if start(f)[0] == line and (character is None or start(f)[1] == character)]
    if not findings:
        raise RequestError(msg("no {code} finding in {path} at that place; `check` lists the findings with their ranges", code=code, path=path))
    if len(findings) > 1:
        places = Listing(f"{a}:{b}" for a, b in (start(f) for f in findings))
        raise RequestError(msg("{count} {code} findings in {path}: give line and character of one ({places})",
                               count=len(findings), code=code, path=path, places=places))
    finding = findings[0]
    available = _Fixes(index).of(finding)
    if not available:
        raise RequestError(msg("this {code} finding has no quick fix dify-lsp can write; change the file yourself", code=code))
    if not 0 <= fix < len(available):
        raise RequestError(msg("fix {index} does not exist: this finding has {count}", index=fix, count=len(available)))
    chosen = available[fix]
    by_file: dict[Path, list] = {}
    for target in [*(e.path for e in chosen.edits), *chosen.files]:
        if not norm(target).is_relative_to(root):
            raise RequestError(msg("the fix would write {path}, outside the plugin; nothing was written", path=str(target)))
    for edit in chosen.edits:
        by_file.setdefault(edit.path, []).append(edit)
    written = []
    for file, content in chosen.files.items():
        if file.exists():
            raise RequestError(msg("the fix would create {path}, which exists now; check again", path=str(file)))
    for file, content in chosen.files.items():
        file.parent.mkdir(parents=True, exist_ok=True)
        with open(file, "x", encoding="utf-8", newline="\n") as fh:  # never over an existing file
            fh.write(content)
        written.append(str(file))
    for file, edits in by_file.items():
        raw = file.read_bytes().decode("utf-8")
        crlf = "\r\n" in raw
        text = apply_edits(raw.replace("\r\n", "\n") if crlf else raw, edits)
        file.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode("utf-8"))
        written.append(str(file))
    after = check(str(root), language, use_cache=False)
    return {
        "applied": tr(chosen.title, language), "written": written,
        "remaining_in_file": [f for f in after["findings"] if f["file"] == str(p)],
        "finding_gone": not any(f["file"] == str(p) and f["code"] == code and f["message_en"] == str(finding.message)
                                for f in after["findings"]),
    }


# -- new tool, package -----------------------------------------------------------------------------------------


def new_tool(plugin: str, name: str, language: str, provider: str | None = None) -> dict[str, Any]:
    from dify_lsp.scaffold import ScaffoldError, new_tool as scaffold_tool
    from dify_lsp.scaffold_cli import write_scaffold

    root = _plugin_root(plugin)
    index = PluginIndex()
    loaded = index.plugin_at(root)
    try:
        plan = scaffold_tool(loaded, index.source, name, norm(provider) if provider else None)
        written = write_scaffold(plan)
    except ScaffoldError as exc:
        raise RequestError(exc.args[0] if exc.args else str(exc)) from None  # its catalog message, said in the user's language
    except OSError as exc:
        raise RequestError(f"{exc.filename or ''}: {exc.strerror or exc}") from None
    return {
        "created": [loaded.relative(p) for p in written if p in plan.files],
        "updated": [loaded.relative(p) for p in written if p not in plan.files],
        "findings": check(str(root), language, use_cache=False)["findings"],
    }


def package(plugin: str, language: str, output: str | None = None, max_size_mb: int = 50) -> dict[str, Any]:
    from dify_lsp.invocation.package import PackageError, build_package

    root = _plugin_root(plugin)
    target = norm(output) if output else root.parent / f"{root.name}.difypkg"
    try:
        files, size = build_package(root, target, max_size_mb)
    except PackageError as exc:
        raise RequestError(msg("the plugin cannot be packaged: {reason}", reason=exc.args[0] if exc.args else str(exc))) from None
    except OSError as exc:
        raise RequestError(f"{exc.filename or target}: {exc.strerror or exc}") from None
    return {"package": str(target), "files": files, "uncompressed_bytes": size, "bytes": target.stat().st_size}
