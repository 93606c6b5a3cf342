"""Differential test: the checker against the SDK itself.

Real-style plugins of every kind (tests/fixtures/kinds and the search tool) are mutated at
random: a key deleted, a bad token put in a string, a list / mapping / null put where a scalar
was, text put where a boolean or number was, a number where text was, an unknown key added.
Each mutant is loaded by the SDK 0.10.2's own code in a Python 3.12 venv (one long-lived
process running tests/sdk_plugin_loader.py: PluginRegistration's configuration loading, then
the class loader's source resolution) and checked by dify-lsp's engine (what `dify-lsp check`
runs).  Where the SDK rejects a mutant, the checker must report an error in the mutated file;
where it accepts one, the checker must report no error at all, except for the daemon rules
listed in DAEMON_RULES (the daemon refuses such a plugin at packaging or install time).

CI runs DIFY_LSP_DIFF_EXAMPLES (default 120) examples; a soak runs more, e.g.
DIFY_LSP_DIFF_EXAMPLES=3000 DIFY_LSP_DIFF_RANDOM=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dify_lsp.checker import check_plugin
from dify_lsp.findings import Finding, Severity
from dify_lsp.index import PluginIndex
from invocation_helpers import sdk_python

HERE = Path(__file__).parent
LOADER = HERE / "sdk_plugin_loader.py"
PLUGINS = {
    "model_provider": HERE / "fixtures" / "kinds" / "model_provider",
    "endpoint": HERE / "fixtures" / "kinds" / "endpoint",
    "agent_strategy": HERE / "fixtures" / "kinds" / "agent_strategy",
    "datasource": HERE / "fixtures" / "kinds" / "datasource",
    "trigger": HERE / "fixtures" / "kinds" / "trigger",
    "tool": HERE / "fixtures" / "real_plugins" / "search_tool",
}
EXAMPLES = int(os.environ.get("DIFY_LSP_DIFF_EXAMPLES", "120"))


# --- what the daemon rejects although the SDK loads it -----------------------------------------
@dataclass(frozen=True)
class DaemonRule:
    codes: tuple[str, ...]
    source: str  # where the daemon (or the packager it runs) rejects it
    what: str
    applies: Callable[[Finding], bool] = lambda f: True


def _text_where_scalar(f: Finding) -> bool:
    m = f.message
    return ("must be a boolean" in m or "must be a number" in m or "must be an integer" in m) and "not the text" in m


def _in_manifest(f: Finding) -> bool:
    return f.path.name == "manifest.yaml"


# The packager validates the manifest's struct tags (packager/file_scanner.go ->
# UnmarshalPluginDeclarationFromYaml -> validators.GlobalEntitiesValidator); the whole declaration,
# every file's struct tags included, is validated when a plugin registers with the daemon's
# debugging runtime (internal/core/debugging_runtime/runtime_intialization_handlers.go ->
# parser.UnmarshalJsonBytes, pkg/utils/parser/json.go); installs decode the files with yaml.v3.
DAEMON_RULES = (
    DaemonRule(("DL103",), "pkg/entities/plugin_entities/*_declaration.go validators (author, name, version, identity names), enforced by packager/file_scanner.go and debugging_runtime", "formats"),
    DaemonRule(("DL108",), "pkg/entities/plugin_entities/plugin_declaration.go (ManifestValidate)", "plugin kinds that cannot be combined"),
    DaemonRule(("DL106",), "pkg/entities/plugin_entities/*_declaration.go (validate lt= / lte= tags), enforced as DL103", "lengths and counts"),
    DaemonRule(("DL102",), "gopkg.in/yaml.v3 decode.go via packager/file_scanner.go: the manifest's Go struct (PluginDeclaration) takes no other shape", "manifest value of another shape", _in_manifest),
    DaemonRule(("DL104",), "pkg/entities/plugin_entities/plugin_declaration.go (plugin_tag, arch and runner validators), enforced by packager/file_scanner.go", "manifest values", _in_manifest),
    DaemonRule(("DL301",), "pkg/entities/plugin_entities/config.go and *_declaration.go (is_scope validator), enforced as DL103", "scopes"),
    DaemonRule(("DL102",), "gopkg.in/yaml.v3 decode.go (cannot unmarshal !!seq / !!map into string): option values are Go strings, the SDK str()s them", "a list or mapping as an option value", lambda f: ".options[" in f.message and ("not a list" in f.message or "not a mapping" in f.message)),
    DaemonRule(("DL002",), "pkg/plugin_packager/decoder/helper.go (ReadFile of every provider file the manifest lists: \"failed to read ... file\")", "a provider file the manifest lists is missing", _in_manifest),
    DaemonRule(("DL216",), "internal/core/local_runtime (runs `python -m <meta.runner.entrypoint>`: \"No module named ...\")", "an entrypoint module that does not exist"),
    DaemonRule(("DL306", "DL307"), "internal/core/io_tunnel/backwards_invocation/task.go (\"permission denied, you need to enable ... access in plugin manifest\")", "reverse invocations the manifest does not permit"),
    DaemonRule(("DL309",), "pkg/entities/plugin_entities/plugin_declaration.go (storage size validator)", "storage size"),
    DaemonRule(("DL002",), "pkg/plugin_packager/decoder/helper.go (CheckAssetsValid: \"icon not found\")", "icons missing from _assets", lambda f: "icon" in f.message),
    DaemonRule(("DL102",), "gopkg.in/yaml.v3 decode.go via pkg/utils/parser/yaml.go (cannot unmarshal !!str into bool / float64 / int)", "text where the daemon's struct has a bool or number", _text_where_scalar),
    DaemonRule(("DL404",), "pkg/entities/plugin_entities/model_declaration.go (TransformTemplate: \"use_template %s not found\")", "unknown parameter template"),
)


# Errors for plugins that load but fail on every call, in the plugin's own process.
RUN_TIME_RULES = (
    DaemonRule(("DL214",), "the plugin's code: tool_parameters[name] of an undeclared parameter raises KeyError on every run", "undeclared parameter read"),
    DaemonRule(("DL405",), "dify_plugin/core/model_factory.py (ModelFactory.get_instance: KeyError for a model type without a class)", "a model type without its model class"),
    DaemonRule(("DL407",), "dify_plugin/core/trigger_factory.py (\"Event `...` not found in provider\") when the trigger dispatches it", "a dispatched event no event YAML declares"),
)


def daemon_rule_for(f: Finding) -> DaemonRule | None:
    return next((r for r in (*DAEMON_RULES, *RUN_TIME_RULES) if f.code in r.codes and r.applies(f)), None)


# --- the SDK side ----------------------------------------------------------------------------
class SdkLoader:
    def __init__(self, python: Path) -> None:
        self.proc = subprocess.Popen(
            [str(python), str(LOADER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}

    def load(self, plugin_dir: Path) -> dict[str, Any]:
        self.proc.stdin.write(json.dumps({"dir": str(plugin_dir)}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def sdk() -> SdkLoader:
    loader = SdkLoader(sdk_python())
    yield loader
    loader.close()


# --- YAML that round-trips like the original (timestamps stay text) ---------------------------
class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def yaml_files(plugin: Path) -> list[str]:
    return sorted(p.relative_to(plugin).as_posix() for p in plugin.rglob("*.yaml"))


def node_paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += node_paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += node_paths(v, (*prefix, i))
    return out


def get(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data


OPS = ("delete", "bad-token", "list-for-scalar", "mapping-for-scalar", "null", "text-for-scalar", "number-for-text", "unknown-key", "py-as-yaml")


def mutate(data: Any, path: tuple, op: str, token: str) -> tuple[Any, str] | None:
    """Apply one mutation at ``path``; None when it does not apply there."""
    if not path:
        return None
    parent, key = get(data, path[:-1]), path[-1]
    value = parent[key]
    if op == "delete":
        del parent[key]
        return data, f"delete {'.'.join(map(str, path))}"
    if op == "unknown-key":
        if not isinstance(value, dict):
            return None
        value["colour" + token] = "teal"
        return data, f"add unknown key under {'.'.join(map(str, path))}"
    if isinstance(value, (dict, list)):
        return None
    if op == "bad-token" and isinstance(value, str):
        parent[key] = value + token
    elif op == "list-for-scalar":
        parent[key] = [value]
    elif op == "mapping-for-scalar":
        parent[key] = {"value": value}
    elif op == "null":
        parent[key] = None
    elif op == "text-for-scalar" and isinstance(value, (bool, int, float)):
        parent[key] = "maybe" + token
    elif op == "number-for-text" and isinstance(value, str):
        parent[key] = 42
    elif op == "py-as-yaml" and isinstance(value, str) and value.endswith(".py"):
        parent[key] = value[:-3] + ".yaml"  # the SDK still imports the module (the .py beside it)
    else:
        return None
    return data, f"{op} at {'.'.join(map(str, path))}: {value!r} -> {parent[key]!r}"


# --- the comparison -----------------------------------------------------------------------------
@dataclass
class Figures:
    mutants: int = 0
    sdk_rejected: int = 0
    caught: int = 0
    daemon_only: int = 0
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    by_rule: dict[str, int] = field(default_factory=dict)  # accepted mutants with a daemon / run-time rule error

    def line(self) -> str:
        return (
            f"differential: {self.mutants} mutants, {self.sdk_rejected} rejected by the SDK, {self.caught} of them caught "
            f"with an error in the mutated file, {len(self.missed)} missed; of {self.mutants - self.sdk_rejected} accepted, "
            f"{self.daemon_only} with an error of a named daemon rule, {len(self.extra)} with another error (extra)"
        )


FIGURES = Figures()


def compare(sdk: SdkLoader, kind: str, rel: str, mutated_text: str, what: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / kind
        shutil.copytree(PLUGINS[kind], root, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
        target = root / rel
        target.write_text(mutated_text, encoding="utf-8")
        verdict = sdk.load(root)
        report = check_plugin(PluginIndex(), root)
        errors = [f for f in report.findings if f.severity == Severity.ERROR]
        assert not report.crashes, report.crashes
        FIGURES.mutants += 1
        label = f"{kind}/{rel}: {what}"
        if not verdict["ok"]:
            FIGURES.sdk_rejected += 1
            if any(f.path == target.resolve() or f.path == target for f in errors):
                FIGURES.caught += 1
            else:
                FIGURES.missed.append(f"{label}\n  SDK: {verdict['error'][:300]}\n  checker errors: {[(f.code, f.message[:120]) for f in errors]}")
        else:
            unexplained = [f for f in errors if daemon_rule_for(f) is None]
            if unexplained:
                FIGURES.extra.append(f"{label}\n  SDK: loads it\n  checker: {[(f.code, f.path.name, f.message[:160]) for f in unexplained]}")
            elif errors:
                FIGURES.daemon_only += 1
                for code in sorted({f.code for f in errors}):
                    FIGURES.by_rule[code] = FIGURES.by_rule.get(code, 0) + 1


def test_every_fixture_loads_and_checks_clean(sdk: SdkLoader):
    for kind, plugin in PLUGINS.items():
        assert sdk.load(plugin) == {"ok": True}, kind
        # Round-tripped through the mutator's YAML dump, every file still loads and checks clean.
        for rel in yaml_files(plugin):
            text = dump_yaml(load_yaml((plugin / rel).read_text(encoding="utf-8")))
            before = (FIGURES.mutants, len(FIGURES.missed), len(FIGURES.extra), FIGURES.sdk_rejected)
            compare(sdk, kind, rel, text, "unchanged (re-dumped)")
            assert (len(FIGURES.missed), len(FIGURES.extra), FIGURES.sdk_rejected) == before[1:], FIGURES.extra[-1:] + FIGURES.missed[-1:]
            FIGURES.mutants -= 1
    FIGURES.daemon_only = 0
    FIGURES.by_rule.clear()


@st.composite
def mutants(draw):
    kind = draw(st.sampled_from(sorted(PLUGINS)))
    rel = draw(st.sampled_from(yaml_files(PLUGINS[kind])))
    data = load_yaml((PLUGINS[kind] / rel).read_text(encoding="utf-8"))
    paths = node_paths(data)[1:]
    op = draw(st.sampled_from(OPS))
    if op == "py-as-yaml":  # aim at the Python source paths
        sources = [p for p in paths if isinstance(get(data, p), str) and get(data, p).endswith(".py")]
        paths = sources or paths
    path = draw(st.sampled_from(paths))
    token = draw(st.sampled_from(["!", " x", "_x", "%", "@@", "-Z"]))
    got = mutate(data, path, op, token)
    if got is None:
        got = mutate(data, path, "delete", token)
    data, what = got
    return kind, rel, dump_yaml(data), what


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("DIFY_LSP_DIFF_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
    database=None,
)
@given(mutants())
def _run_mutants(sdk: SdkLoader, mutant) -> None:
    compare(sdk, *mutant)


@pytest.mark.timeout(max(300, EXAMPLES))  # about 0.1 to 0.3 s a mutant on a busy 2-core machine
def test_checker_agrees_with_the_sdk_on_mutants(sdk: SdkLoader, capsys):
    _run_mutants(sdk)
    with capsys.disabled():
        rules = ", ".join(f"{code} {n}" for code, n in sorted(FIGURES.by_rule.items()))
        sys.stdout.write(f"\n{FIGURES.line()}\n  accepted by the SDK, refused by a named rule: {rules or 'none'}\n")
    problems = [*("MISSED " + m for m in FIGURES.missed), *("EXTRA " + e for e in FIGURES.extra)]
    assert FIGURES.sdk_rejected > 0 and FIGURES.mutants - FIGURES.sdk_rejected > 0
    assert not problems, FIGURES.line() + "\n" + "\n".join(problems[:30])
