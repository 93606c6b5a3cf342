"""Workloads the benchmark generates into a temporary folder.

- ``example``: a copy of ``examples/llm-tool``.
- ``large``: one plugin with 100 tools; ``tools/tool_000.py`` is a 2,000-line
  Python file and ``tools/tool_000.yaml`` a 5,000-line tool YAML, with the
  measured positions near their ends.
- ``corpus``: 200 small tool plugins (some with mistakes) for ``dify-lsp check``.

Every workload names the files and the positions the benchmark asks about,
as (needle, anchor) pairs resolved against the file's text, so the
generators and the measurements cannot drift apart.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "llm-tool"

ICON = '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><circle cx="12" cy="12" r="10"/></svg>\n'


@dataclass(frozen=True)
class Probe:
    """A cursor position: just after ``needle`` (or ``offset`` code points into it), searched after ``anchor``."""

    needle: str
    anchor: str | None = None
    offset: int | None = None

    def position(self, text: str) -> dict[str, int]:
        start = text.index(self.anchor) if self.anchor else 0
        idx = text.index(self.needle, start)
        idx += len(self.needle) if self.offset is None else self.offset
        line = text.count("\n", 0, idx)
        line_start = text.rfind("\n", 0, idx) + 1
        return {"line": line, "character": len(text[line_start:idx].encode("utf-16-le")) // 2}


@dataclass(frozen=True)
class Rename:
    """Incremental edits of the name just after ``anchor``: edit n renames it to ``<word><n>``.

    Every edit makes a text the server has not seen, as typing does, so no
    cache keyed by content can answer it.
    """

    anchor: str
    word: str

    def spelling(self, n: int) -> str:
        return f"{self.word}{n}"


@dataclass
class Workload:
    name: str
    root: Path
    python_file: Path
    manifest: Path
    tool_yaml: Path
    python_edit: Rename
    yaml_edit: Rename
    notes: dict[str, int] = field(default_factory=dict)


# Positions shared by every workload: the Tool's `self.session.model.llm.invoke(` call,
# the manifest's `type:` value and `memory` key, the last tool parameter's `type:` value and `form` key.
SESSION_CALL = "self.session.model.llm.invoke("
PYTHON_PROBES = {
    "completion@self.session.model.": Probe("self.session.model.", anchor=SESSION_CALL),
    "completion@self.session.model.llm.": Probe("self.session.model.llm.", anchor=SESSION_CALL),
    "hover@self.session.model": Probe("self.session.model", anchor=SESSION_CALL, offset=len("self.session.mo")),
    "hover@self.session.model.llm": Probe("self.session.model.llm", anchor=SESSION_CALL, offset=len("self.session.model.l")),
    "signature@invoke(": Probe(SESSION_CALL, anchor=SESSION_CALL),
}
MANIFEST_PROBES = {
    "completion@manifest type:": Probe("type: ", anchor="\ntype:"),
    "hover@manifest memory": Probe("memory", anchor="resource:", offset=2),
}
TOOL_YAML_LAST_PARAM = "- name: model\n"
TOOL_PROBES = {
    "completion@tool parameter type:": Probe("type: ", anchor=TOOL_YAML_LAST_PARAM),
    "hover@tool parameter form": Probe("form", anchor=TOOL_YAML_LAST_PARAM, offset=1),
}
# What a right answer contains (labels for completion; non-empty for hover and signature help).
# Completion right after typing: a new line `probe<n> = self.session.model.` above the call, a fresh text each time.
TYPED_CASE = "completion@typed self.session.model."
TYPED_PREFIX = "self.session.model."

EXPECTED_LABELS = {
    TYPED_CASE: {"llm", "text_embedding", "rerank", "tts", "speech2text", "moderation"},
    "completion@self.session.model.": {"llm", "text_embedding", "rerank", "tts", "speech2text", "moderation"},
    "completion@self.session.model.llm.": {"invoke"},
    "completion@manifest type:": {"plugin"},
    "completion@tool parameter type:": {"string", "number", "select", "model-selector"},
}


def example(base: Path) -> Workload:
    root = base / "example" / "llm-tool"
    shutil.copytree(EXAMPLE, root)
    return Workload(
        name="example",
        root=root,
        python_file=root / "tools" / "llm.py",
        manifest=root / "manifest.yaml",
        tool_yaml=root / "tools" / "llm.yaml",
        python_edit=Rename('tool_parameters.get("', "query"),
        yaml_edit=Rename("- name: ", "prompt"),
    )


# -- the large plugin ---------------------------------------------------------------------

MANIFEST = """\
version: 0.0.1
type: plugin
author: bench
name: {name}
label:
  en_US: {title}
description:
  en_US: A generated plugin for benchmarks.
icon: icon.svg
resource:
  memory: 268435456
  permission:
    model:
      enabled: true
      llm: true
      text_embedding: true
    tool:
      enabled: true
    storage:
      enabled: true
      size: 1048576
plugins:
  tools:
    - provider/{provider}.yaml
meta:
  version: 0.0.1
  arch:
    - amd64
    - arm64
  runner:
    language: python
    version: "3.12"
    entrypoint: main
  minimum_dify_version: 1.0.0
created_at: 2025-01-08T10:00:00+08:00
privacy: PRIVACY.md
"""

PROVIDER_PY = '''\
from typing import Any

from dify_plugin import ToolProvider


class {cls}Provider(ToolProvider):
    def _validate_credentials(self, credentials: dict[str, Any]) -> None:
        if not credentials.get("api_key"):
            raise ValueError("api_key is required")
'''

MAIN_PY = """\
from dify_plugin import DifyPluginEnv, Plugin

plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=120))

if __name__ == "__main__":
    plugin.run()
"""


def _provider_yaml(name: str, tools: list[str]) -> str:
    listed = "\n".join(f"  - tools/{t}.yaml" for t in tools)
    return f"""\
identity:
  author: bench
  name: {name}
  label:
    en_US: {name}
  description:
    en_US: Generated provider with {len(tools)} tools.
  icon: icon.svg
  tags:
    - utilities
credentials_for_provider:
  api_key:
    type: secret-input
    required: true
    label:
      en_US: API key
tools:
{listed}
extra:
  python:
    source: provider/{name}.py
"""


def _select_parameter(k: int) -> str:
    return f"""\
  - name: option_{k:03d}
    type: select
    required: false
    default: a{k}
    label:
      en_US: Option {k}
      zh_Hans: 选项 {k}
    human_description:
      en_US: Choose variant {k}
      zh_Hans: 选择变体 {k}
    llm_description: which variant {k} to use
    form: form
    options:
      - value: a{k}
        label:
          en_US: A {k}
      - value: b{k}
        label:
          en_US: B {k}
      - value: c{k}
        label:
          en_US: C {k}
"""


def _tool_yaml(name: str, select_parameters: int = 0) -> str:
    head = f"""\
identity:
  name: {name}
  author: bench
  label:
    en_US: {name}
description:
  human:
    en_US: Generated tool {name}
  llm: Generated tool {name} that asks the workspace model.
parameters:
  - name: prompt
    type: string
    required: true
    label:
      en_US: Prompt
    human_description:
      en_US: What to ask
    llm_description: the question
    form: llm
"""
    middle = "".join(_select_parameter(k) for k in range(select_parameters))
    tail = f"""\
  - name: model
    type: model-selector
    scope: llm
    required: true
    label:
      en_US: Model
    human_description:
      en_US: The model to ask
    form: form
extra:
  python:
    source: tools/{name}.py
"""
    return head + middle + tail


TOOL_PY_HEAD = """\
from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.model.message import SystemPromptMessage, UserPromptMessage
from dify_plugin.entities.tool import ToolInvokeMessage
"""

TOOL_PY_CLASS = '''

class {cls}(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage, None, None]:
        prompt = tool_parameters.get("prompt", "")
        model = tool_parameters.get("model")
        response = self.session.model.llm.invoke(
            model_config=model,
            prompt_messages=[
                SystemPromptMessage(content="you are a helpful assistant"),
                UserPromptMessage(content=prompt),
            ],
            stream=False,
        )
        yield self.create_text_message(text=str(response.message.content))
'''


def _helper_function(i: int) -> str:
    return textwrap.dedent(
        f'''

        def normalize_block_{i:03d}(text: str, limit: int = {40 + i}) -> str:
            """Collapse whitespace in block {i} and clip it to ``limit`` characters."""
            words = [w for w in text.split() if w]
            if not words:
                return ""
            kept: list[str] = []
            total = 0
            for word in words:
                total += len(word) + 1
                if total > limit:
                    break
                kept.append(word.lower() if {i} % 2 else word.title())
            summary = " ".join(kept)
            if len(summary) < len(text):
                summary += " ..."
            return summary
        '''
    )


def large_python(lines: int = 2000) -> str:
    """A valid Tool module of exactly ``lines`` lines: helpers first, the Tool class at the end."""
    out = TOOL_PY_HEAD
    tail = TOOL_PY_CLASS.format(cls="LargeTool")
    i = 0
    while out.count("\n") + _helper_function(i).count("\n") + tail.count("\n") <= lines:
        out += _helper_function(i)
        i += 1
    body = out + tail
    missing = lines - body.count("\n")
    return out + "\n" * missing + tail


def large_tool_yaml(lines: int = 5000) -> str:
    n = 0
    while _tool_yaml("tool_000", n + 1).count("\n") <= lines:
        n += 1
    text = _tool_yaml("tool_000", n)
    return text + "#\n" * (lines - text.count("\n"))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _tool_plugin(root: Path, name: str, tools: int, tool_py: dict[str, str] | None = None, tool_yaml: dict[str, str] | None = None) -> list[str]:
    provider = name.replace("-", "_")
    names = [f"tool_{t:03d}" for t in range(tools)]
    _write(root / "manifest.yaml", MANIFEST.format(name=name, title=name.title(), provider=provider))
    _write(root / "main.py", MAIN_PY)
    _write(root / "requirements.txt", "dify_plugin==0.10.2\n")
    _write(root / "PRIVACY.md", "Stores nothing.\n")
    _write(root / "_assets" / "icon.svg", ICON)
    _write(root / "provider" / f"{provider}.yaml", _provider_yaml(provider, names))
    _write(root / "provider" / f"{provider}.py", PROVIDER_PY.format(cls=provider.title().replace("_", "")))
    for t in names:
        _write(root / "tools" / f"{t}.yaml", (tool_yaml or {}).get(t) or _tool_yaml(t))
        _write(root / "tools" / f"{t}.py", (tool_py or {}).get(t) or TOOL_PY_HEAD + TOOL_PY_CLASS.format(cls=t.title().replace("_", "")))
    return names


def large(base: Path, tools: int = 100, python_lines: int = 2000, yaml_lines: int = 5000) -> Workload:
    root = base / "large" / "big-plugin"
    _tool_plugin(
        root,
        "big-plugin",
        tools,
        tool_py={"tool_000": large_python(python_lines)},
        tool_yaml={"tool_000": large_tool_yaml(yaml_lines)},
    )
    py = root / "tools" / "tool_000.py"
    yml = root / "tools" / "tool_000.yaml"
    return Workload(
        name="large",
        root=root,
        python_file=py,
        manifest=root / "manifest.yaml",
        tool_yaml=yml,
        python_edit=Rename('tool_parameters.get("', "prompt"),
        yaml_edit=Rename("- name: ", "prompt"),
        notes={
            "tools": tools,
            "python_lines": py.read_text(encoding="utf-8").count("\n"),
            "yaml_lines": yml.read_text(encoding="utf-8").count("\n"),
        },
    )


def corpus(base: Path, plugins: int = 200, tools_per_plugin: int = 3) -> Path:
    """``plugins`` small tool plugins; every 5th reads a parameter its YAML does not declare."""
    folder = base / "corpus"
    for p in range(plugins):
        wrong = TOOL_PY_HEAD + TOOL_PY_CLASS.format(cls="Tool000").replace('get("prompt"', 'get("query"')
        _tool_plugin(folder / f"plugin-{p:03d}", f"plugin-{p:03d}", tools_per_plugin, tool_py={"tool_000": wrong} if p % 5 == 0 else None)
    return folder


def generate(base: Path, quick: bool = False) -> dict[str, object]:
    """All workloads under ``base``; ``quick`` makes them small (for smoke tests)."""
    base.mkdir(parents=True, exist_ok=True)
    if quick:
        big = large(base, tools=5, python_lines=300, yaml_lines=400)
        pile = corpus(base, plugins=5)
    else:
        big = large(base)
        pile = corpus(base)
    return {"example": example(base), "large": big, "corpus": pile}
