"""`# noqa` and `[tool.dify-lsp]`: the same suppression and configuration in `dify-lsp check` and in the
language server (both client profiles), plus unused noqa codes (DL020) and configuration mistakes (DL021)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_session import LspSession, rng

REPO = Path(__file__).resolve().parent.parent
QUERY_LINE = '                UserPromptMessage(content=tool_parameters.get("query")),'


def check(plugin: Path, *args: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "dify_lsp", "check", str(plugin), "--format", "json", *args],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def codes(items: list[dict]) -> list[str]:
    return sorted(i["code"] for i in items)


# -- through the CLI ------------------------------------------------------------------------------------------


def test_noqa_with_the_code_silences_that_finding_in_python(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.py"
    assert "DL207" in codes(check(llm_tool))
    edit(tool, QUERY_LINE, QUERY_LINE + "  # noqa: DL207")
    assert codes(check(llm_tool)) == ["DL208", "DL208"]


def test_noqa_with_another_code_silences_nothing_and_is_reported_unused(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.py"
    edit(tool, QUERY_LINE, QUERY_LINE + "  # noqa: DL209")
    items = check(llm_tool)
    assert codes(items) == ["DL020", "DL207", "DL208", "DL208"]
    (unused,) = [i for i in items if i["code"] == "DL020"]
    line = tool.read_text().split("\n").index(QUERY_LINE + "  # noqa: DL209")
    col = len(QUERY_LINE + "  # noqa: ")
    assert unused["range"] == {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 5}}
    assert unused["severity"] == "hint" and "DL209" in unused["message"]


def test_bare_noqa_and_other_tools_codes(llm_tool: Path):
    tool = llm_tool / "tools" / "llm.py"
    edit(tool, QUERY_LINE, QUERY_LINE + "  # noqa")
    assert codes(check(llm_tool)) == ["DL208", "DL208"]
    edit(tool, QUERY_LINE + "  # noqa", QUERY_LINE + "  # noqa: E501")
    # flake8's code is not ours: nothing silenced, nothing reported as unused
    assert codes(check(llm_tool)) == ["DL207", "DL208", "DL208"]
    edit(tool, QUERY_LINE + "  # noqa: E501", QUERY_LINE + "  # NOQA:E501,dl207")
    assert codes(check(llm_tool)) == ["DL208", "DL208"]


def test_noqa_in_yaml(llm_tool: Path):
    tool_yaml = llm_tool / "tools" / "llm.yaml"
    before = [i for i in check(llm_tool) if i["code"] == "DL208"]
    line = before[0]["range"]["start"]["line"]
    lines = tool_yaml.read_text().split("\n")
    lines[line] += "  # noqa: DL208"
    tool_yaml.write_text("\n".join(lines))
    after = [i for i in check(llm_tool) if i["code"] == "DL208"]
    assert [i["range"]["start"]["line"] for i in after] == [before[1]["range"]["start"]["line"]]


def test_unknown_code_in_noqa_is_reported(llm_tool: Path):
    assert "DL207" in codes(check(llm_tool))  # the finding the noqa below silences
    edit(llm_tool / "tools" / "llm.py", QUERY_LINE, QUERY_LINE + "  # noqa: DL207, DL999")
    items = check(llm_tool)
    (unused,) = [i for i in items if i["code"] == "DL020"]
    assert "DL999" in unused["message"] and "not a dify-lsp rule" in unused["message"]
    assert "DL207" not in codes(items)


def test_unused_noqa_can_itself_be_ignored(llm_tool: Path):
    edit(llm_tool / "tools" / "llm.py", QUERY_LINE, QUERY_LINE + "  # noqa: DL209")
    assert "DL020" in codes(check(llm_tool))  # unused while DL020 and DL209 both run
    assert "DL020" not in codes(check(llm_tool, "--ignore", "DL020"))
    # a noqa for a rule that is not selected is not "unused": the rule did not run
    assert "DL020" not in codes(check(llm_tool, "--ignore", "DL209"))


def test_pyproject_select_ignore_and_per_file_ignores(llm_tool: Path):
    pyproject = llm_tool / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.dify-lsp]\nignore = ["DL208"]\n')
    assert codes(check(llm_tool)) == ["DL207"]
    pyproject.write_text('[tool.dify-lsp]\nselect = ["DL208"]\n')
    assert codes(check(llm_tool)) == ["DL208", "DL208"]
    # the command line's --select replaces the configuration's select
    assert codes(check(llm_tool, "--select", "DL207")) == ["DL207"]
    # --extend-select adds to it
    assert codes(check(llm_tool, "--extend-select", "DL207")) == ["DL207", "DL208", "DL208"]
    pyproject.write_text('[tool.dify-lsp.per-file-ignores]\n"tools/*.py" = ["python"]\n')
    assert codes(check(llm_tool)) == ["DL208", "DL208"]  # DL208 is reported in tools/llm.yaml
    pyproject.write_text('[tool.dify-lsp.per-file-ignores]\n"llm.yaml" = ["DL208"]\n')
    assert codes(check(llm_tool)) == ["DL207"]


def test_pyproject_fail_on(llm_tool: Path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "dify_lsp", "check", str(llm_tool), *a], capture_output=True, text=True, timeout=120)  # noqa: E731
    assert run().returncode == 0
    (llm_tool / "pyproject.toml").write_text('[tool.dify-lsp]\nfail-on = "warning"\n')
    assert run().returncode == 1
    assert run("--fail-on", "error").returncode == 0  # the command line wins


def test_pyproject_in_the_repository_root_applies_to_plugins_below(tmp_path: Path, llm_tool: Path):
    (tmp_path / ".git").mkdir()
    assert codes(check(llm_tool)) == ["DL207", "DL208", "DL208"]
    (tmp_path / "pyproject.toml").write_text('[tool.dify-lsp]\nignore = ["DL2"]\n')
    assert codes(check(llm_tool)) == []


def test_invalid_configuration_is_reported_at_its_line(llm_tool: Path):
    pyproject = llm_tool / "pyproject.toml"
    pyproject.write_text('[tool.dify-lsp]\nselect = ["pythn"]\nignores = ["DL208"]\nfail-on = "fatal"\n')
    items = [i for i in check(llm_tool) if i["code"] == "DL021"]
    by_line = {i["range"]["start"]["line"]: i for i in items}
    assert set(by_line) == {1, 2, 3}
    assert "unknown rule selector 'pythn'" in by_line[1]["message"] and "did you mean 'python'" in by_line[1]["message"]
    assert by_line[1]["range"]["start"]["character"] == len("select = [")
    assert "unknown key `ignores`" in by_line[2]["message"] and "did you mean `ignore`" not in by_line[2]["message"]
    assert "'ignore'" in by_line[2]["message"]
    assert "fail-on" in by_line[3]["message"]
    assert all(i["path"].endswith("pyproject.toml") and i["severity"] == "error" for i in items)


def test_a_valid_configuration_reports_nothing(llm_tool: Path):
    valid = (
        '[tool.dify-lsp]\nselect = ["ALL"]\nextend-select = ["DL3"]\nignore = []\nfail-on = "hint"\n'
        '[tool.dify-lsp.per-file-ignores]\n"main.py" = ["DL209"]\n'
    )
    # the same table with one misspelt key is reported: the configuration is read
    (llm_tool / "pyproject.toml").write_text(valid.replace("fail-on", "fail_on"))
    assert "DL021" in codes(check(llm_tool))
    (llm_tool / "pyproject.toml").write_text(valid)
    assert "DL021" not in codes(check(llm_tool))


# -- through the language server ------------------------------------------------------------------------------


async def test_server_honours_noqa_and_reports_unused_with_a_fix(session: LspSession, llm_tool: Path):
    tool = llm_tool / "tools" / "llm.py"
    text = tool.read_text()
    session.open(tool)
    assert [d.code for d in await session.diagnostics(tool)] == ["DL207"]
    session.set_text(tool, text.replace(QUERY_LINE, QUERY_LINE + "  # noqa: DL207"))
    assert await session.wait_cleared(tool) == []
    session.set_text(tool, text.replace(QUERY_LINE, QUERY_LINE + "  # noqa: DL209"))
    diags = await session.diagnostics(tool)
    assert sorted(d.code for d in diags) == ["DL020", "DL207"]
    (unused,) = [d for d in diags if d.code == "DL020"]
    assert unused.severity == types.DiagnosticSeverity.Hint
    assert list(unused.tags) == [types.DiagnosticTag.Unnecessary]
    line = text.split("\n").index(QUERY_LINE)
    start = session.col(tool, line, len(QUERY_LINE + "  # noqa: "))
    assert rng(unused) == (line, start, line, start + 5)
    actions = await session.code_actions(tool, unused.range, [unused])
    fix = next(a for a in actions if a.title == "Remove the unused `# noqa` comment")
    (edit,) = next(iter(fix.edit.changes.values())) if fix.edit.changes else fix.edit.document_changes[0].edits
    assert edit.new_text == ""
    assert rng(edit.range) == (line, session.col(tool, line, len(QUERY_LINE)), line, start + 5)


async def test_server_honours_pyproject(session: LspSession, llm_tool: Path):
    (llm_tool / "pyproject.toml").write_text('[tool.dify-lsp]\nignore = ["DL207"]\n')
    tool = llm_tool / "tools" / "llm.py"
    session.open(tool)
    assert await session.wait_cleared(tool) == []
    tool_yaml = llm_tool / "tools" / "llm.yaml"
    session.open(tool_yaml)
    assert [d.code for d in await session.diagnostics(tool_yaml)] == ["DL208", "DL208"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "dify_lsp"]))
async def selecting_lsp(lsp_client: LanguageClient, tmp_path: Path):
    """A server whose settings select rules as the command line does (select / extendSelect / ignore)."""

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="workspace")],
            initialization_options={"select": ["python"], "ignore": ["DL207"]},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_server_settings_select_and_ignore_like_the_command_line(selecting_lsp: LanguageClient, llm_tool: Path):
    session = LspSession(selecting_lsp, "visual-studio-code", "utf-16")
    manifest = llm_tool / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("icon: icon.svg", "icon: missing.svg"))  # DL002: not selected
    session.open(manifest)
    assert await session.diagnostics(manifest) == []
    tool = llm_tool / "tools" / "llm.py"
    session.open(tool)
    assert await session.diagnostics(tool) == []  # DL207 ignored
    tool_yaml = llm_tool / "tools" / "llm.yaml"
    session.open(tool_yaml)
    assert [d.code for d in await session.diagnostics(tool_yaml)] == ["DL208", "DL208"]
