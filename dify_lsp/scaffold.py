"""New plugin pieces from templates, and the YAML edits that wire them in.

Used by ``dify-lsp new tool``, the editor's "Dify: New tool" command and the
quick fixes that write YAML (declare a parameter, list a tool in its provider,
create a missing tool file or class).  Everything here returns text and
:class:`~dify_lsp.findings.TextEdit` lists; writing files is the caller's
business (the CLI writes them, the editor applies a WorkspaceEdit).  The
templates are what the SDK 0.10.2 loads and what ``dify-lsp check`` accepts
without a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dify_lsp import pyscan
from dify_lsp.findings import TextEdit
from dify_lsp.i18n import Listing, msg
from dify_lsp.caches import Caches
from dify_lsp.index import CONTENTS, Plugin, TextSource, lookup
from dify_lsp.schema.references import TOOL, TOOL_PROVIDER
from dify_lsp.textpos import LineIndex, Pos, Span
from dify_lsp.yamledit import append_item
from dify_lsp.yamlpos import YMap, YScalar

# identity.name of a tool: what the daemon accepts (^[a-zA-Z0-9_-]+$)
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
DEFAULT_TOOLS_FOLDER = "tools"


class ScaffoldError(ValueError):
    """The request cannot be carried out; the message says why."""


@dataclass
class Scaffold:
    """Files to create (path -> text) and edits to existing files."""

    files: dict[Path, str] = field(default_factory=dict)
    edits: list[TextEdit] = field(default_factory=list)

    def paths_to_open(self) -> list[Path]:
        """New files in the order to show them: the Python (where work starts) last, so it ends up in front."""
        return sorted(self.files, key=lambda p: (p.suffix == ".py", str(p)))


# -- names ----------------------------------------------------------------------------------------------------


def class_name_for(tool_name: str, suffix: str = "Tool") -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", tool_name) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "My"
    if name[0].isdigit():
        name = "T" + name
    return name if name.endswith(suffix) else name + suffix


def label_for(name: str) -> str:
    words = [w for w in re.split(r"[_\-\s]+", name) if w]
    return " ".join(words).capitalize() if words else name


def _yaml_text(value: str) -> str:
    """A YAML scalar for a label or description (quoted when plain text would be read differently)."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _.,()-]*", value) and value.lower() not in ("yes", "no", "on", "off", "true", "false", "null"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- templates --------------------------------------------------------------------------------------------------------


def parameter_item(name: str, ptype: str = "string", required: bool = True, form: str = "llm", scope: str | None = None) -> str:
    """One tool parameter, as the body of a YAML sequence item (unindented)."""
    label = _yaml_text(label_for(name))
    lines = [
        f"name: {name}",
        f"type: {ptype}",
    ]
    if scope:
        lines.append(f"scope: {scope}")
    lines += [
        f"required: {'true' if required else 'false'}",
        "label:",
        f"  en_US: {label}",
        "human_description:",
        f"  en_US: {label}",
    ]
    if form == "llm":
        lines.append(f"llm_description: {_yaml_text(label_for(name))}")
    lines.append(f"form: {form}")
    return "\n".join(lines)


def form_field(name: str, required: bool, secret: bool = True) -> str:
    """The body of a credential (credentials_for_provider entry) or endpoint setting, unindented, without its name."""
    label = _yaml_text(label_for(name))
    return "\n".join([
        f"type: {'secret-input' if secret else 'text-input'}",
        f"required: {'true' if required else 'false'}",
        "label:",
        f"  en_US: {label}",
        "placeholder:",
        f"  en_US: {label}",
    ])


def tool_yaml(tool_name: str, author: str, python_source: str, parameters: list[str] | None = None) -> str:
    label = _yaml_text(label_for(tool_name))
    params = ["query"] if parameters is None else parameters
    body = [
        "identity:",
        f"  name: {tool_name}",
        f"  author: {author}",
        "  label:",
        f"    en_US: {label}",
        "description:",
        "  human:",
        f"    en_US: {label}",
        f"  llm: {label}",
    ]
    if params:
        body.append("parameters:")
        for p in params:
            item = parameter_item(p)
            first, *rest = item.split("\n")
            body.append(f"  - {first}")
            body.extend(f"    {line}" for line in rest)
    else:
        body.append("parameters: []")
    body += ["extra:", "  python:", f"    source: {python_source}"]
    return "\n".join(body) + "\n"


_TOOL_IMPORTS = (
    "from collections.abc import Generator",
    "from typing import Any",
    "",
    "from dify_plugin import Tool",
    "from dify_plugin.entities.tool import ToolInvokeMessage",
)


def tool_class(class_name: str, tool_name: str, parameters: list[str]) -> str:
    """A Tool subclass whose _invoke reads every declared parameter and answers with a text message."""
    lines = [
        f"class {class_name}(Tool):",
        "    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:",
    ]
    for p in parameters:
        lines.append(f"        {_py_name(p)} = tool_parameters.get({_py_str(p)})")
    shown = ", ".join(f"{p}={{{_py_name(p)}!r}}" for p in parameters)
    message = f"{tool_name} received {shown}" if parameters else f"{tool_name} ran"
    lines.append(f"        yield self.create_text_message(f{_py_str(message)})")
    return "\n".join(lines) + "\n"


def _py_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _py_name(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    if not ident or ident[0].isdigit() or ident in ("self", "tool_parameters"):
        ident = "value_" + ident
    return ident


def tool_python(class_name: str, tool_name: str, parameters: list[str]) -> str:
    return "\n".join(_TOOL_IMPORTS) + "\n\n\n" + tool_class(class_name, tool_name, parameters)


# -- reading the plugin -------------------------------------------------------------------------------------------------


def _author(plugin: Plugin) -> str:
    node, _ = lookup(CONTENTS.root(plugin.manifest), ("author",))
    return node.value if isinstance(node, YScalar) and isinstance(node.value, str) and node.value else "author"


def tool_providers(plugin: Plugin) -> list[Path]:
    return sorted(yf.path for yf in plugin.yaml_of_kind(TOOL_PROVIDER) if CONTENTS.root(yf) is not None)


def _tool_names(plugin: Plugin) -> set[str]:
    names = set()
    for yf in [*plugin.yaml_of_kind(TOOL), *plugin.loose_tools]:
        node, _ = lookup(CONTENTS.root(yf), ("identity", "name"))
        if isinstance(node, YScalar) and isinstance(node.value, str):
            names.add(node.value)
    return names


def _tools_folder(plugin: Plugin, provider: Path) -> str:
    for ref in plugin.refs_from(provider):
        if ref.target_kind == TOOL and "/" in ref.raw:
            return ref.raw.rsplit("/", 1)[0]
    return DEFAULT_TOOLS_FOLDER


def declared_parameter_names(plugin: Plugin, tool_yaml_path: Path) -> list[str]:
    yf = plugin.yaml_files.get(tool_yaml_path)
    node, _ = lookup(CONTENTS.root(yf) if yf else None, ("parameters",))
    out = []
    for item in getattr(node, "items", []) or []:
        name = item.get("name") if isinstance(item, YMap) else None
        if isinstance(name, YScalar) and isinstance(name.value, str):
            out.append(name.value)
    return out


# -- plans ------------------------------------------------------------------------------------------------------------------


def list_tool(plugin: Plugin, provider: Path, rel_path: str) -> list[TextEdit]:
    """Edits that add ``rel_path`` to the provider's ``tools`` list."""
    yf = plugin.yaml_files.get(provider)
    if yf is None or CONTENTS.root(yf) is None or CONTENTS.text(yf) is None:
        raise ScaffoldError(msg("{path} is not a readable tool provider YAML", path=plugin.relative(provider)))
    edits = append_item(provider, CONTENTS.text(yf), CONTENTS.root(yf), "tools", rel_path)
    if edits is None:
        raise ScaffoldError(msg("the tools list of {path} is not a block list; add '{rel_path}' to it by hand", path=plugin.relative(provider), rel_path=rel_path))
    return edits


def new_tool(plugin: Plugin, source: TextSource, tool_name: str, provider: Path | None = None) -> Scaffold:
    """A tool YAML and its Python, listed in the plugin's tool provider."""
    if not TOOL_NAME.match(tool_name):
        raise ScaffoldError(msg("'{tool_name}' is not a valid tool name: use letters, digits, '_' and '-' (the daemon checks ^[a-zA-Z0-9_-]+$)", tool_name=tool_name))
    providers = tool_providers(plugin)
    if provider is None:
        if not providers:
            raise ScaffoldError(msg("{name}/manifest.yaml lists no tool provider (plugins.tools): a tool needs one to be loaded", name=plugin.root.name))
        if len(providers) > 1:
            raise ScaffoldError(msg("the plugin has several tool providers: say which one ({paths})", paths=Listing(plugin.relative(p) for p in providers)))
        provider = providers[0]
    elif provider not in providers:
        raise ScaffoldError(msg("{path} is not one of the plugin's tool providers", path=plugin.relative(provider)))
    if tool_name in _tool_names(plugin):
        raise ScaffoldError(msg("the plugin already has a tool named '{tool_name}'", tool_name=tool_name))
    folder = _tools_folder(plugin, provider)
    yaml_rel, py_rel = f"{folder}/{tool_name}.yaml", f"{folder}/{tool_name}.py"
    yaml_path, py_path = plugin.root / yaml_rel, plugin.root / py_rel
    for path in (yaml_path, py_path):
        if source.is_file(path):
            raise ScaffoldError(msg("{path} already exists", path=plugin.relative(path)))
    out = Scaffold()
    out.files[yaml_path] = tool_yaml(tool_name, _author(plugin), py_rel)
    out.files[py_path] = tool_python(class_name_for(tool_name), tool_name, ["query"])
    out.edits = list_tool(plugin, provider, yaml_rel)
    return out


def missing_tool_files(plugin: Plugin, source: TextSource, yaml_path: Path) -> Scaffold:
    """The files behind a tool path a provider lists but that does not exist: the YAML and (when missing) its Python."""
    tool_name = yaml_path.stem
    if not TOOL_NAME.match(tool_name):
        raise ScaffoldError(msg("'{tool_name}' is not a valid tool name", tool_name=tool_name))
    rel_yaml = plugin.relative(yaml_path)
    rel_py = rel_yaml.rsplit(".", 1)[0] + ".py"
    out = Scaffold()
    out.files[yaml_path] = tool_yaml(tool_name, _author(plugin), rel_py)
    py_path = plugin.root / rel_py
    if not source.is_file(py_path):
        out.files[py_path] = tool_python(class_name_for(tool_name), tool_name, ["query"])
    return out


def missing_python(plugin: Plugin, tool_yaml_path: Path, py_path: Path) -> Scaffold:
    """The Python file a tool YAML names but that does not exist, reading the declared parameters."""
    yf = plugin.yaml_files.get(tool_yaml_path)
    node, _ = lookup(CONTENTS.root(yf) if yf else None, ("identity", "name"))
    tool_name = node.value if isinstance(node, YScalar) and isinstance(node.value, str) else py_path.stem
    out = Scaffold()
    out.files[py_path] = tool_python(class_name_for(tool_name), tool_name, declared_parameter_names(plugin, tool_yaml_path))
    return out


def add_tool_class(plugin: Plugin, tool_yaml_path: Path, py_path: Path, text: str, caches: Caches | None) -> list[TextEdit]:
    """Edits that add a Tool subclass (and the imports it needs) to an existing Python file."""
    found = pyscan.scan(text, caches)
    yf = plugin.yaml_files.get(tool_yaml_path)
    node, _ = lookup(CONTENTS.root(yf) if yf else None, ("identity", "name"))
    tool_name = node.value if isinstance(node, YScalar) and isinstance(node.value, str) else py_path.stem
    class_name = class_name_for(tool_name)
    taken = {c.name for c in found.classes}
    while class_name in taken:
        class_name += "_"
    needed = []
    if "Generator" not in found.imports:
        needed.append("from collections.abc import Generator")
    if "Any" not in found.imports:
        needed.append("from typing import Any")
    if "Tool" not in found.imports:
        needed.append("from dify_plugin import Tool")
    if "ToolInvokeMessage" not in found.imports:
        needed.append("from dify_plugin.entities.tool import ToolInvokeMessage")
    index = LineIndex(text)
    edits = []
    if needed:
        at = Pos(min(found.import_insert_line, index.line_count - 1), 0) if text else Pos(0, 0)
        edits.append(TextEdit(py_path, Span(at, at), "\n".join(needed) + "\n"))
    end = index.pos(len(text))
    body = tool_class(class_name, tool_name, declared_parameter_names(plugin, tool_yaml_path))
    sep = "" if not text.strip() else ("\n\n" if text.endswith("\n") else "\n\n\n")
    if text.endswith("\n\n"):
        sep = "\n"
    edits.append(TextEdit(py_path, Span(end, end), sep + body))
    return edits
