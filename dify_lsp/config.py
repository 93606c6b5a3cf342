"""Which findings are reported: rule selection, `[tool.dify-lsp]` and `# noqa`.

:func:`apply_configuration` is the one place this happens; the checker calls it
after the rules ran, so ``dify-lsp check`` and the language server honour the
same configuration and the same comments.

Selectors follow ruff's convention: ``ALL``, a rule family (``python``), a
code prefix (``DL2``) or a code (``DL209``).  Within one layer the most
specific selector wins (``select = ["DL2"]`` with ``ignore = ["DL209"]`` keeps
every DL2xx rule but DL209, and the other way round); a later layer with its
own ``select`` starts afresh.  The layers are the plugin's ``[tool.dify-lsp]``
and then the command line (or the editor's settings).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from dify_lsp.findings import Finding, Fix, Severity, TextEdit
from dify_lsp.i18n import msg
from dify_lsp.index import CONTENTS
from dify_lsp.noqa import noqa_comments
from dify_lsp.pyproject import find_config_table
from dify_lsp.rules import did_you_mean, suggest
from dify_lsp.rules.registry import RULES
from dify_lsp.rules.suppression import INVALID_CONFIG, UNUSED_NOQA
from dify_lsp.settings import ServerSettings
from dify_lsp.textpos import Span

CONFIG_KEYS = ("select", "extend-select", "ignore", "fail-on", "per-file-ignores", "marketplace")
FAIL_ON = {"error": Severity.ERROR, "warning": Severity.WARNING, "information": Severity.INFORMATION, "hint": Severity.HINT}


@dataclass(frozen=True)
class Selector:
    text: str
    codes: frozenset[str]
    specificity: int  # ALL 0, a family as its code prefix (3), a prefix its length, a code 5


def parse_selector(text: str) -> Selector:
    """A selector, or ValueError with a did-you-mean message."""
    raw = text.strip()
    if raw.upper() == "ALL":
        return Selector("ALL", frozenset(RULES), 0)
    by_family: dict[str, set[str]] = {}
    for r in RULES.values():
        by_family.setdefault(r.family, set()).add(r.code)
    if raw.lower() in by_family:
        return Selector(raw.lower(), frozenset(by_family[raw.lower()]), 3)
    code = raw.upper()
    matched = frozenset(c for c in RULES if c.startswith(code))
    if code.startswith("DL") and matched:
        return Selector(code, matched, len(code))
    hint = did_you_mean(suggest(raw, [*by_family, *RULES]))
    raise ValueError(msg("unknown rule selector '{raw}'{hint}: use a code (DL209), a code prefix (DL2), a family ({names}) or ALL", raw=raw, hint=hint, names=', '.join(sorted(by_family))))


@dataclass
class SelectionLayer:
    select: list[Selector] | None = None  # None: keep what the layer before chose
    extend_select: list[Selector] = field(default_factory=list)
    ignore: list[Selector] = field(default_factory=list)

    def apply(self, code: str, enabled: bool) -> bool:
        def best(selectors: Iterable[Selector]) -> int:
            return max((s.specificity for s in selectors if code in s.codes), default=-1)

        pos = best([*(self.select or []), *self.extend_select])
        neg = best(self.ignore)
        if self.select is not None:
            return pos >= 0 and pos > neg
        if pos < 0 and neg < 0:
            return enabled
        return pos > neg


def enabled_codes(layers: Iterable[SelectionLayer]) -> set[str]:
    out = set()
    for code in RULES:
        on = True
        for layer in layers:
            on = layer.apply(code, on)
        if on:
            out.add(code)
    return out


def parse_selectors(values: Iterable[str]) -> list[Selector]:
    """Selectors from the command line or settings; values may hold several, comma-separated."""
    out = []
    for value in values:
        for part in str(value).split(","):
            if part.strip():
                out.append(parse_selector(part))
    return out


def layer_from_settings(settings: ServerSettings) -> SelectionLayer | None:
    """The command line's (or the editor's) selection: the settings select / extendSelect / ignore."""
    if not (settings.select or settings.extend_select or settings.ignore):
        return None

    def selectors(values: list[str]) -> list[Selector]:
        out = []
        for item in values:
            try:
                out.extend(parse_selectors([item]))
            except ValueError:
                pass  # the CLI rejects these before checking; an editor setting is best effort
        return out

    return SelectionLayer(
        select=selectors(settings.select) if settings.select else None,
        extend_select=selectors(settings.extend_select),
        ignore=selectors(settings.ignore),
    )


def disabled_families(settings: ServerSettings) -> set[str]:
    """The rule families the editor's settings turn off."""
    return settings.diagnostics.disabled()



# -- [tool.dify-lsp] -----------------------------------------------------------------------------


@dataclass
class PluginConfig:
    path: Path | None = None  # the pyproject.toml it came from
    layer: SelectionLayer = field(default_factory=SelectionLayer)
    fail_on: str | None = None
    per_file_ignores: list[tuple[str, list[Selector]]] = field(default_factory=list)
    marketplace: bool | None = None  # `marketplace = true`: run the marketplace family (off by default)
    problems: list[Finding] = field(default_factory=list)  # DL021 findings in the pyproject.toml

    def ignored_in(self, relative: str) -> set[str]:
        name = relative.rsplit("/", 1)[-1]
        out: set[str] = set()
        for pattern, selectors in self.per_file_ignores:
            if fnmatch.fnmatchcase(relative, pattern) or ("/" not in pattern and fnmatch.fnmatchcase(name, pattern)):
                for s in selectors:
                    out |= s.codes
        return out


def _key_span(lines: list[str], key: str, value: str | None = None) -> Span:
    """Best place for a config problem: the line that names the value, else the key, else the table."""
    for needle in ([f'"{value}"', f"'{value}'"] if value else []) + [f"{key} ", f"{key}=", f'"{key}"', "[tool.dify-lsp"]:
        for i, line in enumerate(lines):
            col = line.find(needle)
            if col >= 0 and not line.lstrip().startswith("#"):
                return Span.at(i, col, i, col + len(needle.rstrip(" =")))
    return Span.at(0, 0, 0, 0)


def load_plugin_config(root: Path, read_text) -> PluginConfig:
    """The `[tool.dify-lsp]` table nearest to the plugin; ``read_text(path)`` returns a file's text or None."""
    found = find_config_table(root, read_text)
    if found is not None:
        path, text, table = found
        config = PluginConfig(path)
        lines = text.split("\n")

        def problem(message: str, key: str, value: str | None = None) -> None:
            config.problems.append(INVALID_CONFIG.at(path, _key_span(lines, key, value), message))

        def selectors(key: str, value: Any) -> list[Selector]:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problem(msg("`{key}` must be a list of rule selectors (codes, prefixes or families)", key=key), key)
                return []
            out = []
            for v in value:
                try:
                    out.append(parse_selector(v))
                except ValueError as exc:
                    problem(msg("`{key}`: {reason}", key=key, reason=exc.args[0] if exc.args else str(exc)), key, v)
            return out

        if not isinstance(table, dict):
            problem("`[tool.dify-lsp]` must be a table", "dify-lsp")
            return config
        for key, value in table.items():
            if key == "select":
                config.layer.select = selectors(key, value)
            elif key == "extend-select":
                config.layer.extend_select = selectors(key, value)
            elif key == "ignore":
                config.layer.ignore = selectors(key, value)
            elif key == "fail-on":
                if value in FAIL_ON:
                    config.fail_on = value
                else:
                    problem(msg("`fail-on` must be one of {names}, not {value!r}", names=', '.join(FAIL_ON), value=value), key)
            elif key == "marketplace":
                if isinstance(value, bool):
                    config.marketplace = value
                else:
                    problem(msg("`marketplace` must be true or false, not {value!r}", value=value), key)
            elif key == "per-file-ignores":
                if not isinstance(value, dict):
                    problem("`per-file-ignores` must be a table of glob = [selectors]", key)
                    continue
                for pattern, sel in value.items():
                    config.per_file_ignores.append((pattern, selectors("per-file-ignores", sel)))
            else:
                options = suggest(key, list(CONFIG_KEYS))
                problem(msg("unknown key `{key}` in [tool.dify-lsp]{did_you_mean}; known keys: {names}", key=key, did_you_mean=did_you_mean(options), names=', '.join(CONFIG_KEYS)), key)
        return config
    return PluginConfig()


# -- applying it ---------------------------------------------------------------------------------


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def apply_configuration(index, plugin, findings: list[Finding], settings: ServerSettings | None = None) -> list[Finding]:
    """The findings to report for ``plugin``: selection, per-file ignores and noqa applied; unused noqa
    codes (DL020) and configuration problems (DL021) added.  ``index.source`` supplies the texts, so an
    editor's unsaved text counts."""
    settings = settings or ServerSettings()

    def read_text(path: Path) -> str | None:
        return index.source.read(path).text

    config = load_plugin_config(plugin.root, read_text)
    layers = [config.layer]
    cli_layer = layer_from_settings(settings)
    if cli_layer is not None:
        layers.append(cli_layer)
    enabled = enabled_codes(layers)
    # A family turned off in the editor's settings stays off here too.
    off = disabled_families(settings)
    enabled = {c for c in enabled if RULES[c].family not in off}

    kept: list[Finding] = []
    per_file: dict[Path, set[str]] = {}
    noqa_by_path: dict[Path, dict] = {}
    used: set[tuple[Path, int, str]] = set()  # (path, line, code) a noqa silenced

    def file_text(path: Path) -> str | None:
        # The plugin's own files as the check read them (no second read of every file after each edit).
        loaded = plugin.yaml_files.get(path) or plugin.python_files.get(path)
        return CONTENTS.text(loaded) if loaded is not None else read_text(path)

    def noqa_of(path: Path) -> dict:
        if path not in noqa_by_path:
            text = file_text(path)
            noqa_by_path[path] = index.caches.noqa_comments.get_or_compute(text, lambda: noqa_comments(text)) if text else {}
        return noqa_by_path[path]

    # A mistake in the configuration is reported whatever that configuration selects.
    problems_on = INVALID_CONFIG.code in enabled_codes([cli_layer] if cli_layer else []) and INVALID_CONFIG.family not in off
    for f in [*findings, *config.problems]:
        if f.code not in enabled and not (f.code == INVALID_CONFIG.code and problems_on):
            continue
        if f.path not in per_file:
            per_file[f.path] = config.ignored_in(_relative(f.path, plugin.root)) if config.per_file_ignores else set()
        if f.code in per_file[f.path]:
            continue
        comment = noqa_of(f.path).get(f.span.start.line)
        if comment is not None and comment.silences(f.code):
            used.add((f.path, comment.line, f.code))
            used.add((f.path, comment.line, "*"))
            continue
        kept.append(f)

    if UNUSED_NOQA.code in enabled:
        for path in plugin.files():
            comments = noqa_of(path)
            if not comments:
                continue
            ignored_here = config.ignored_in(_relative(path, plugin.root)) if config.per_file_ignores else set()
            if UNUSED_NOQA.code in ignored_here:
                continue
            for comment in comments.values():
                if UNUSED_NOQA.code in {c.code for c in comment.codes} and comment.codes:
                    continue  # `# noqa: DL020` keeps the whole comment
                ours = [c for c in comment.codes if c.code.startswith("DL")]
                unused = []
                for c in ours:
                    if c.code not in RULES:
                        unused.append((c, msg("`# noqa` names {code}, which is not a dify-lsp rule", code=c.code)))
                    elif c.code in enabled and (path, comment.line, c.code) not in used:
                        unused.append((c, msg("unused `# noqa` code {code}: no {code} finding on this line", code=c.code)))
                if not unused:
                    continue
                fixes = ()
                if len(unused) == len(comment.codes):
                    # every code is unused and dify-lsp's: the whole comment can go, with the spaces before it
                    line_text = (file_text(path) or "").split("\n")[comment.line]
                    start = len(line_text[: comment.span.start.col].rstrip())
                    edit = TextEdit(path, Span.at(comment.line, start, comment.line, comment.span.end.col), "")
                    fixes = (Fix(msg("Remove the unused `# noqa` comment"), (edit,)),)
                for c, message in unused:
                    kept.append(UNUSED_NOQA.at(path, c.span, message, fixes=fixes, tags=("unnecessary",)))

    kept.sort(key=Finding.sort_key)
    return kept


def fail_on_for(plugin_root: Path, read_text) -> str | None:
    """`fail-on` from the plugin's `[tool.dify-lsp]`, if it sets one."""
    return load_plugin_config(plugin_root, read_text).fail_on
