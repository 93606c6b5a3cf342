"""`dify-lsp schema --out DIR`: one JSON Schema per plugin YAML kind, from the schema data the rules use,
valid JSON Schema that accepts the example plugin's files and rejects what the rules reject."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parent.parent


class YamlAsTheEditorSeesIt(yaml.SafeLoader):
    """YAML 1.2 as yaml-language-server reads it: a timestamp is a string, not a datetime."""


YamlAsTheEditorSeesIt.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: Path):
    return yaml.load(path.read_text(), Loader=YamlAsTheEditorSeesIt)


def test_schema_writes_every_kind_and_the_schemas_hold(tmp_path: Path):
    out = subprocess.run([sys.executable, "-m", "dify_lsp", "schema", "--out", str(tmp_path / "s")],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    from dify_lsp.schema.plugin_files import SCHEMAS

    written = {Path(line).name for line in out.stdout.splitlines()}
    assert written == {f"{kind}.schema.json" for kind in SCHEMAS}
    for name in written:
        jsonschema.Draft7Validator.check_schema(json.loads((tmp_path / "s" / name).read_text()))

    def validator(kind: str) -> jsonschema.Draft7Validator:
        return jsonschema.Draft7Validator(json.loads((tmp_path / "s" / f"{kind}.schema.json").read_text()))

    example = REPO / "examples" / "llm-tool"
    for kind, rel in (("manifest", "manifest.yaml"), ("tool_provider", "provider/llm.yaml"), ("tool", "tools/llm.yaml")):
        data = load(example / rel)
        assert list(validator(kind).iter_errors(data)) == [], rel
    tool = load(example / "tools" / "llm.yaml")
    tool["parameters"][0]["type"] = "strng"  # DL104 in the checker
    assert any(e.validator == "enum" for e in validator("tool").iter_errors(tool))
    manifest = load(example / "manifest.yaml")
    del manifest["version"]  # DL101
    assert any(e.validator == "required" for e in validator("manifest").iter_errors(manifest))


def test_unwritable_folder_is_a_usage_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = subprocess.run([sys.executable, "-m", "dify_lsp", "schema", "--out", str(blocker / "sub")],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 2 and "dify-lsp schema:" in out.stderr and "Traceback" not in out.stderr
