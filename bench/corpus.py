"""A realistic benchmark corpus: Dify plugins of every kind, sized like the real ones.

Sizes follow what Dify's 262 official plugins measure (per plugin, median / max):

| kind | Python files | Python lines | YAML files |
| --- | --- | --- | --- |
| tool | 6 / 38 | 417 / 5,384 | 5 / 37 |
| model provider | 6.5 / 27 | 667 / 8,242 | 14 / 258 |
| trigger | 12 / 105 | 746 / 4,873 | (one event YAML per event module) |

and the kind mix is theirs too (149 tool, 70 model, 17 datasource, 17 trigger, 7 endpoint, 2 agent-strategy
plugins out of 262).  Each size is drawn from a log-normal with that median whose largest draw over the
kind's real count lands near that maximum, with a fixed seed, so a corpus is the same on every run.

The content is generated from this repository's own example and fixture plugins (examples/llm-tool,
tests/fixtures/kinds/*): more tools, model YAMLs and trigger events with their own names, and helper modules
(classes, functions, session calls) that the plugin's code imports, up to the drawn line count.

    python bench/corpus.py OUT [--plugins 100] [--seed 17]
"""

from __future__ import annotations

import argparse
import math
import random
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = {
    "tool": REPO / "examples" / "llm-tool",
    "model": REPO / "tests" / "fixtures" / "kinds" / "model_provider",
    "trigger": REPO / "tests" / "fixtures" / "kinds" / "trigger",
    "datasource": REPO / "tests" / "fixtures" / "kinds" / "datasource",
    "endpoint": REPO / "tests" / "fixtures" / "kinds" / "endpoint",
    "agent": REPO / "tests" / "fixtures" / "kinds" / "agent_strategy",
}
# How many of Dify's 262 official plugins are of each kind.
REAL_MIX = {"tool": 149, "model": 70, "datasource": 17, "trigger": 17, "endpoint": 7, "agent": 2}


@dataclass(frozen=True)
class Dist:
    median: float
    maximum: float
    minimum: float = 1

    def draw(self, rng: random.Random, real_count: int) -> int:
        # the expected largest of n standard normals is about sqrt(2 ln n)
        z = math.sqrt(2 * math.log(max(real_count, 2)))
        sigma = math.log(self.maximum / self.median) / z
        value = math.exp(rng.gauss(math.log(self.median), sigma))
        return int(round(min(self.maximum, max(self.minimum, value))))


# (Python files, Python lines, YAML files) per kind; datasource/endpoint/agent plugins are tool-like and small.
SIZES = {
    "tool": (Dist(6, 38, 3), Dist(417, 5384, 120), Dist(5, 37, 4)),
    "model": (Dist(6.5, 27, 4), Dist(667, 8242, 200), Dist(14, 258, 6)),
    "trigger": (Dist(12, 105, 5), Dist(746, 4873, 200), None),
    "datasource": (Dist(6, 20, 4), Dist(417, 3000, 150), None),
    "endpoint": (Dist(6, 20, 4), Dist(417, 3000, 150), None),
    "agent": (Dist(6, 20, 4), Dist(600, 3000, 200), None),
}


def _copy(template: Path, dest: Path) -> None:
    shutil.copytree(template, dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify", "*.pyc"))


def _py_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py"))


def _lines(root: Path) -> int:
    return sum(p.read_text(encoding="utf-8").count("\n") for p in _py_files(root))


def _helper_block(rng: random.Random, i: int) -> str:
    """About 40 lines of ordinary plugin code: a small client class and a function."""
    limit = rng.randint(20, 400)
    return textwrap.dedent(
        f'''

        class Client{i}:
            """Talks to the upstream API for part {i}."""

            def __init__(self, base_url: str, api_key: str, timeout: float = {rng.randint(5, 60)}.0) -> None:
                self.base_url = base_url.rstrip("/")
                self.api_key = api_key
                self.timeout = timeout
                self._cache: dict[str, Any] = {{}}

            def headers(self) -> dict[str, str]:
                return {{"Authorization": f"Bearer {{self.api_key}}", "Accept": "application/json"}}

            def fetch(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
                key = path + repr(sorted((params or {{}}).items()))
                if key in self._cache:
                    return self._cache[key]
                url = f"{{self.base_url}}/{{path.lstrip('/')}}"
                result = {{"url": url, "params": params or {{}}, "items": []}}
                for n in range(len(path) % 7):
                    result["items"].append({{"n": n, "label": f"item-{{n}}"}})
                self._cache[key] = result
                return result


        def summarize_{i}(records: list[dict[str, Any]], limit: int = {limit}) -> str:
            """Join the records' labels, at most ``limit`` characters."""
            parts: list[str] = []
            total = 0
            for record in records:
                label = str(record.get("label") or record.get("name") or "")
                if not label:
                    continue
                total += len(label) + 2
                if total > limit:
                    break
                parts.append(label.strip().lower() if {i} % 2 else label.strip())
            return ", ".join(parts)
        '''
    )


def _fill_python(root: Path, rng: random.Random, files: int, lines: int, importer: Path) -> None:
    """Add helper modules (imported by ``importer``) until the plugin has ``files`` Python files and ``lines`` lines."""
    have_files = len(_py_files(root))
    have_lines = _lines(root)
    extra_files = max(0, files - have_files)
    extra_lines = max(0, lines - have_lines)
    if extra_files == 0 and extra_lines > 0:
        extra_files = 1
    if extra_files == 0:
        return
    per_file = max(1, extra_lines // extra_files)
    names = []
    block = 0
    for k in range(extra_files):
        name = f"helpers_{k:02d}"
        names.append(name)
        text = '"""Helpers for the plugin\'s API calls."""\n\nfrom typing import Any\n'
        while text.count("\n") + 40 <= per_file:
            text += _helper_block(rng, block)
            block += 1
        (root / "utils").mkdir(exist_ok=True)
        (root / "utils" / f"{name}.py").write_text(text, encoding="utf-8")
    (root / "utils" / "__init__.py").write_text("", encoding="utf-8") if not (root / "utils" / "__init__.py").exists() else None
    source = importer.read_text(encoding="utf-8")
    imports = "".join(f"from utils import {n}  # noqa: F401\n" for n in names)
    importer.write_text(imports + source, encoding="utf-8")


def _rename_plugin(root: Path, name: str) -> None:
    manifest = root / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", text, count=1), encoding="utf-8")


def _tool(root: Path, rng: random.Random, yaml_files: int) -> Path:
    tool_yaml = (root / "tools" / "llm.yaml").read_text(encoding="utf-8")
    tool_py = (root / "tools" / "llm.py").read_text(encoding="utf-8")
    provider = next((root / "provider").glob("*.yaml"))
    ptext = provider.read_text(encoding="utf-8")
    listed = ""
    for i in range(max(0, yaml_files - 3)):  # manifest, provider and tools/llm.yaml are there already
        name = f"tool_{i:02d}"
        (root / "tools" / f"{name}.yaml").write_text(
            tool_yaml.replace("  name: llm\n", f"  name: {name}\n", 1).replace("source: tools/llm.py", f"source: tools/{name}.py"),
            encoding="utf-8",
        )
        (root / "tools" / f"{name}.py").write_text(tool_py.replace("class LLMTool(", f"class Tool{i:02d}(", 1), encoding="utf-8")
        listed += f"  - tools/{name}.yaml\n"
    provider.write_text(ptext.replace("  - tools/llm.yaml\n", "  - tools/llm.yaml\n" + listed, 1), encoding="utf-8")
    return root / "tools" / "llm.py"


def _model(root: Path, rng: random.Random, yaml_files: int) -> Path:
    llm = root / "models" / "llm"
    template = (llm / "nimbus-chat-large.yaml").read_text(encoding="utf-8")
    have = len(list(root.rglob("*.yaml")))
    for i in range(max(0, yaml_files - have)):
        name = f"nimbus-chat-{i:03d}"
        text = template.replace("nimbus-chat-large", name)
        (llm / f"{name}.yaml").write_text(text, encoding="utf-8")
    return llm / "llm.py"


def _trigger(root: Path, rng: random.Random, py_files: int) -> Path:
    events = root / "events"
    yml = (events / "issue_opened.yaml").read_text(encoding="utf-8")
    py = (events / "issue_opened.py").read_text(encoding="utf-8")
    provider = next((root / "provider").glob("*.yaml"))
    ptext = provider.read_text(encoding="utf-8")
    listed = ""
    count = max(0, py_files // 2 - 2)  # half the modules are events, the rest helpers
    for i in range(count):
        name = f"event_{i:02d}"
        (events / f"{name}.yaml").write_text(
            yml.replace("issue_opened", name), encoding="utf-8")
        (events / f"{name}.py").write_text(py, encoding="utf-8")
        listed += f"  - events/{name}.yaml\n"
    provider.write_text(ptext.replace("  - events/issue_opened.yaml\n", "  - events/issue_opened.yaml\n" + listed, 1), encoding="utf-8")
    return events / "issue_opened.py"


def _importer(root: Path) -> Path:
    # the entry point imports the helpers: they are code the plugin runs
    return root / "main.py"


def generate(out: Path, plugins: int = 100, seed: int = 17) -> list[Path]:
    """Write ``plugins`` plugins into ``out`` (kinds in the real mix, at least one of each); returns their roots."""
    rng = random.Random(seed)
    total = sum(REAL_MIX.values())
    counts = {k: max(1, round(plugins * n / total)) for k, n in REAL_MIX.items()}
    counts["tool"] += plugins - sum(counts.values())
    out.mkdir(parents=True, exist_ok=True)
    roots = []
    for kind, n in counts.items():
        py_dist, lines_dist, yaml_dist = SIZES[kind]
        for j in range(n):
            root = out / f"{kind}_{j:03d}"
            _copy(TEMPLATES[kind], root)
            _rename_plugin(root, f"bench_{kind}_{j:03d}")
            py_files = py_dist.draw(rng, REAL_MIX[kind])
            lines = lines_dist.draw(rng, REAL_MIX[kind])
            if kind == "tool":
                _tool(root, rng, yaml_dist.draw(rng, REAL_MIX[kind]))
            elif kind == "model":
                _model(root, rng, yaml_dist.draw(rng, REAL_MIX[kind]))
            elif kind == "trigger":
                _trigger(root, rng, py_files)
            _fill_python(root, rng, py_files, lines, _importer(root))
            roots.append(root)
    return roots


def describe(roots: list[Path]) -> dict[str, dict[str, float]]:
    """Per kind: plugins, and median / max of Python files, Python lines and YAML files (to compare with the table above)."""
    import statistics

    by_kind: dict[str, list[tuple[int, int, int]]] = {}
    for root in roots:
        kind = root.name.rsplit("_", 1)[0]
        py = _py_files(root)
        by_kind.setdefault(kind, []).append((len(py), sum(p.read_text().count("\n") for p in py), len(list(root.rglob("*.yaml")))))
    out = {}
    for kind, rows in by_kind.items():
        cols = list(zip(*rows))
        out[kind] = {"plugins": len(rows)}
        for name, col in zip(("py_files", "py_lines", "yaml_files"), cols):
            out[kind][f"{name}_median"] = statistics.median(col)
            out[kind][f"{name}_max"] = max(col)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--plugins", type=int, default=100)
    p.add_argument("--seed", type=int, default=17)
    args = p.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    roots = generate(args.out, args.plugins, args.seed)
    for kind, row in describe(roots).items():
        print(kind, row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
