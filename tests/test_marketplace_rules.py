"""The marketplace family (DL6xx) on plugin folders: each rule at its exact range, and a ready plugin clean.

The family is off unless asked for; every test here turns it on through the `marketplace` setting, the
way `dify-lsp check --marketplace` and the editor setting do (the config key has its own test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dify_lsp.checker import check_plugin
from dify_lsp.index import PluginIndex, norm
from dify_lsp.textpos import Pos, Span

ON = {"marketplace": True}
README = """# LLM Tool

Asks the workspace's LLM a question.

Source: https://github.com/acme/llm-tool

## Setup

Install the plugin and configure the model in the tool's settings. No API key or credentials are needed:
the plugin connects to nothing but the Dify workspace it runs in.

## Usage

Add the tool to a workflow and give it a prompt.
"""


@pytest.fixture
def ready(llm_tool: Path) -> Path:
    """examples/llm-tool made ready for Marketplace: own author, repo, contact, an English README with its source."""
    manifest = llm_tool / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8").replace("author: langgenius", "author: acme")
    text += "repo: https://github.com/acme/llm-tool\ncontact: dev@acme.example.com\n"
    manifest.write_text(text, encoding="utf-8")
    (llm_tool / "README.md").write_text(README, encoding="utf-8")
    return llm_tool


def findings(root: Path, code: str | None = None, settings: dict | None = None):
    report = check_plugin(PluginIndex(), root, ON if settings is None else settings)
    assert not report.crashes
    return [f for f in report.findings if f.code.startswith("DL6") and (code is None or f.code == code)]


def line_of(path: Path, needle: str) -> tuple[int, int]:
    for i, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
        if needle in line:
            return i, line.index(needle)
    raise AssertionError(f"{needle!r} not in {path}")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_ready_plugin_has_no_marketplace_findings(ready: Path):
    edit(ready / "manifest.yaml", "author: acme", "author: langgenius")
    assert [f.code for f in findings(ready)] == ["DL621"]  # one step back from ready is reported
    edit(ready / "manifest.yaml", "author: langgenius", "author: acme")
    assert findings(ready) == []


def test_the_family_is_off_by_default(llm_tool: Path):
    assert findings(llm_tool, settings={}) == []
    assert {f.code for f in findings(llm_tool)} >= {"DL620", "DL621", "DL636"}


def test_config_key_turns_the_family_on(llm_tool: Path):
    (llm_tool / "pyproject.toml").write_text("[tool.dify-lsp]\nmarketplace = true\n", encoding="utf-8")
    assert {f.code for f in findings(llm_tool, settings={})} >= {"DL620", "DL621"}
    # the setting (the command line's, the editor's) wins over the file
    assert findings(llm_tool, settings={"marketplace": False}) == []


def test_config_key_must_be_a_boolean(llm_tool: Path):
    (llm_tool / "pyproject.toml").write_text('[tool.dify-lsp]\nmarketplace = "yes"\n', encoding="utf-8")
    report = check_plugin(PluginIndex(), llm_tool, {})
    (f,) = [f for f in report.findings if f.code == "DL021"]
    assert "`marketplace` must be true or false" in f.message


# -- contents ------------------------------------------------------------------------------------


def test_dl603_blocked_folder_and_files(ready: Path):
    (ready / "__pycache__").mkdir()
    (ready / "__pycache__" / "main.cpython-312.pyc").write_bytes(b"\x00" * 10)
    (ready / ".env").write_text("X=1\n")
    (ready / ".env.example").write_text("X=\n")
    (ready / "debug.log").write_text("x\n")
    got = {(f.path, f.span) for f in findings(ready, "DL603")}
    zero = Span(Pos(0, 0), Pos(0, 0))
    assert got == {(norm(ready / "__pycache__"), zero), (norm(ready / ".env"), zero), (norm(ready / "debug.log"), zero)}


def test_dl603_difyignore_leaves_artifacts_out(ready: Path):
    (ready / ".venv").mkdir()
    (ready / ".venv" / "x.py").write_text("")
    assert [f.path for f in findings(ready, "DL603")] == [norm(ready / ".venv")]  # without the ignore file
    (ready / ".difyignore").write_text(".venv/\n")
    assert findings(ready, "DL603") == []


def test_dl604_dist_folder_and_archive(ready: Path):
    (ready / "dist").mkdir()
    (ready / "dist" / "a.txt").write_text("a")
    (ready / "data.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    assert sorted(f.path.name for f in findings(ready, "DL604")) == ["data.zip", "dist"]


def test_dl606_unpacked_size(ready: Path):
    with open(ready / "big.txt", "wb") as fh:
        fh.truncate(50 * 1024 * 1024 + 1)
    (f,) = findings(ready, "DL606")
    assert f.path == norm(ready / "manifest.yaml") and f.span == Span(Pos(0, 0), Pos(0, 0))
    assert "exceeds 50 MB" in f.message


def test_dl607_file_count(ready: Path):
    many = ready / "data"
    many.mkdir()
    for i in range(5001):
        (many / f"{i}.txt").write_text("")
    (f,) = findings(ready, "DL607")
    assert "5011 files" in f.message
    assert f.path == norm(ready / "manifest.yaml")


# -- secrets -------------------------------------------------------------------------------------

OPENAI_KEY = "sk-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"
JWT = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.mark.parametrize("secret,kind", [(OPENAI_KEY, "OpenAI"), (AWS_KEY, "AWS"), (JWT, "JWT"), ("-----BEGIN RSA PRIVATE KEY-----", "private key")])
def test_dl610_vendor_secret_at_its_place_and_never_in_the_message(ready: Path, secret: str, kind: str):
    edit(ready / "tools" / "llm.py", "\n", f'\nEXAMPLE = "{secret}"\n')
    (f,) = findings(ready, "DL610")
    line, col = line_of(ready / "tools" / "llm.py", secret)
    assert f.path == norm(ready / "tools" / "llm.py")
    assert f.span == Span(Pos(line, col), Pos(line, col + len(secret)))
    assert kind in f.message and secret not in f.message and secret[4:12] not in f.message


def test_dl611_high_entropy_secret_assignment(ready: Path):
    value = "Zq8Xw3Lp0Rt7Vb2Nm5Kc9Hs4Jd6Fg1Ay"
    (ready / "settings.yaml").write_text(f"client_secret: {value}\n")
    (f,) = findings(ready, "DL611")
    assert f.span == Span(Pos(0, 15), Pos(0, 15 + len(value)))
    assert value not in f.message


def test_dl612_low_entropy_literal_is_a_warning_and_placeholders_are_clean(ready: Path):
    (ready / "settings.yaml").write_text("password: hunter2\napi_key: <your-api-key>\ntoken: ${TOKEN}\n")
    (f,) = findings(ready, "DL612")
    assert f.span == Span(Pos(0, 10), Pos(0, 17))
    assert "hunter2" not in f.message


def test_secrets_code_reading_a_credential_is_clean(ready: Path):
    edit(ready / "tools" / "llm.py", "\n", '\napi_key = "hunter2"\n')
    line, col = line_of(ready / "tools" / "llm.py", '"hunter2"')
    assert [f.span for f in findings(ready, "DL612")] == [Span(Pos(line, col), Pos(line, col + len('"hunter2"')))]  # a literal
    edit(ready / "tools" / "llm.py", '"hunter2"', 'credentials.get("api_key")')
    assert findings(ready, "DL611") == findings(ready, "DL612") == []


def test_dl613_large_file_not_scanned(ready: Path):
    (ready / "corpus.txt").write_text("a" * (1024 * 1024 + 1))
    (f,) = findings(ready, "DL613")
    assert f.path == norm(ready / "corpus.txt")


# -- binaries ------------------------------------------------------------------------------------


def test_dl615_elf_by_magic_whatever_its_name(ready: Path):
    (ready / "helper.dat").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 64)
    (f,) = findings(ready, "DL615")
    assert f.path == norm(ready / "helper.dat") and "ELF" in f.message


def test_dl615_shared_library_by_suffix(ready: Path):
    (ready / "fast.so").write_bytes(b"not really")
    (f,) = findings(ready, "DL615")
    assert f.path == norm(ready / "fast.so")


def test_dl616_shell_script(ready: Path):
    (ready / "setup.sh").write_text("#!/bin/sh\n")
    (f,) = findings(ready, "DL616")
    assert f.path == norm(ready / "setup.sh")


# -- manifest ------------------------------------------------------------------------------------


def test_dl620_missing_repo_and_contact_at_the_first_key(llm_tool: Path):
    got = findings(llm_tool, "DL620")
    assert sorted(f.message.split("`")[1] for f in got) == ["contact", "repo"]
    assert all(f.span == Span(Pos(0, 0), Pos(0, 7)) for f in got)  # `version`, the manifest's first key


def test_dl620_missing_nested_field_at_its_parent_key(ready: Path):
    edit(ready / "manifest.yaml", '    entrypoint: main\n', "")
    (f,) = findings(ready, "DL620")
    line, col = line_of(ready / "manifest.yaml", "runner:")
    assert f.span == Span(Pos(line, col), Pos(line, col + 6))
    assert "meta.runner.entrypoint" in f.message


def test_dl620_missing_privacy_has_a_quick_fix(ready: Path):
    edit(ready / "manifest.yaml", "privacy: PRIVACY.md\n", "")
    (f,) = findings(ready, "DL620")
    assert "`privacy`" in f.message
    (fix,) = f.fixes
    (e,) = fix.edits
    from dify_lsp.yamledit import apply_edits

    fixed = apply_edits((ready / "manifest.yaml").read_text(), list(fix.edits))
    (ready / "manifest.yaml").write_text(fixed)
    assert e.new_text.endswith("privacy: PRIVACY.md\n")
    assert findings(ready) == []


def test_dl621_reserved_author_at_the_value(llm_tool: Path):
    (f,) = findings(llm_tool, "DL621")
    line, col = line_of(llm_tool / "manifest.yaml", "langgenius")
    assert f.span == Span(Pos(line, col), Pos(line, col + len("langgenius")))


def test_dl621_author_is_case_sensitive_as_the_review(ready: Path):
    edit(ready / "manifest.yaml", "author: acme", "author: Difytastic")
    assert findings(ready, "DL621") == []
    edit(ready / "manifest.yaml", "author: Difytastic", "author: mydify")
    assert len(findings(ready, "DL621")) == 1


def test_dl622_repo_host(ready: Path):
    edit(ready / "manifest.yaml", "repo: https://github.com/acme/llm-tool", "repo: https://example.com/acme/llm-tool")
    (f,) = findings(ready, "DL622")
    line, col = line_of(ready / "manifest.yaml", "https://example.com")
    assert f.span == Span(Pos(line, col), Pos(line, col + len("https://example.com/acme/llm-tool")))


def test_dl623_contact_email(ready: Path):
    edit(ready / "manifest.yaml", "contact: dev@acme.example.com", "contact: acme")
    (f,) = findings(ready, "DL623")
    line, col = line_of(ready / "manifest.yaml", "contact: acme")
    assert f.span == Span(Pos(line, col + 9), Pos(line, col + 13))


@pytest.mark.parametrize("value,reason", [("ftp://acme.example.com/p", "not http"), ("../PRIVACY.md", "outside"), ("docs/privacy.md", "not in the package")])
def test_dl624_privacy_reference(ready: Path, value: str, reason: str):
    edit(ready / "manifest.yaml", "privacy: PRIVACY.md", f"privacy: {value}")
    (f,) = findings(ready, "DL624")
    line, col = line_of(ready / "manifest.yaml", value)
    assert f.span == Span(Pos(line, col), Pos(line, col + len(value)))
    assert reason in f.message


def test_dl624_privacy_url_is_clean(ready: Path):
    edit(ready / "manifest.yaml", "privacy: PRIVACY.md", "privacy: http:/acme.example.com/privacy")
    assert [f.code for f in findings(ready)] == ["DL624"]  # one slash short: not a URL, and no such file
    edit(ready / "manifest.yaml", "privacy: http:/acme.example.com/privacy", "privacy: PRIVACY.md")
    edit(ready / "manifest.yaml", "privacy: PRIVACY.md", "privacy: https://acme.example.com/privacy")
    assert findings(ready) == []


def test_dl625_no_privacy_md(ready: Path):
    (ready / "PRIVACY.md").unlink()
    edit(ready / "manifest.yaml", "privacy: PRIVACY.md", "privacy: https://acme.example.com/privacy")
    (f,) = findings(ready, "DL625")
    line, col = line_of(ready / "manifest.yaml", "https://acme")
    assert f.span.start == Pos(line, col)


def test_dl626_template_text_at_its_place(ready: Path):
    (ready / "PRIVACY.md").write_text("# Privacy\n\n!!! Please fill in the privacy policy of the plugin.\n")
    (f,) = findings(ready, "DL626")
    assert f.path == norm(ready / "PRIVACY.md")
    assert f.span == Span(Pos(2, 4), Pos(2, 4 + len("please fill in the privacy policy")))


def test_dl626_empty_policy(ready: Path):
    (ready / "PRIVACY.md").write_text("\n")
    (f,) = findings(ready, "DL626")
    assert "empty" in f.message


def test_dl627_policy_without_disclosure(ready: Path):
    (ready / "PRIVACY.md").write_text("We respect you.\n")
    (f,) = findings(ready, "DL627")
    assert f.path == norm(ready / "PRIVACY.md")


@pytest.mark.parametrize("icon", [
    '<svg width="100" height="100" xmlns="http://www.w3.org/2000/svg">\n  <path d="M20 20 V80 M20 20 H60 Q80 20 80 40 T60 60 H20"\n        fill="none"\n        stroke="black"\n        stroke-width="5"/>\n</svg>\n',
    "<svg><!-- DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE --></svg>",
])
def test_dl628_template_icon(ready: Path, icon: str):
    (ready / "_assets" / "icon.svg").write_text(icon)
    (f,) = findings(ready, "DL628")
    line, col = line_of(ready / "manifest.yaml", "icon: icon.svg")
    assert f.span == Span(Pos(line, col + 6), Pos(line, col + 14))


def test_dl629_minimum_dify_version(ready: Path):
    edit(ready / "manifest.yaml", "  minimum_dify_version: 1.0.0\n", "")
    (f,) = findings(ready, "DL629")
    line, col = line_of(ready / "manifest.yaml", "meta:")
    assert f.span == Span(Pos(line, col), Pos(line, col + 4))


# -- README --------------------------------------------------------------------------------------


def test_dl635_no_readme(ready: Path):
    (ready / "README.md").unlink()
    (f,) = findings(ready, "DL635")
    assert f.path == norm(ready / "manifest.yaml")


def test_dl636_no_source_link_on_the_first_line(ready: Path):
    edit(ready / "README.md", "Source: https://github.com/acme/llm-tool", "Source: https://acme.example.com/llm-tool")
    (f,) = findings(ready, "DL636")
    assert f.span == Span(Pos(0, 0), Pos(0, len("# LLM Tool")))


def test_dl637_cjk_outside_code_blocks_at_the_first_run(ready: Path):
    edit(ready / "README.md", "## Usage", "```\n示例输出\n```\n\n## Usage 用法")
    (f,) = findings(ready, "DL637")
    line, col = line_of(ready / "README.md", "用法")
    assert f.span == Span(Pos(line, col), Pos(line, col + 2))
    assert "2 Chinese" in f.message


def test_dl637_cjk_in_code_blocks_is_clean(ready: Path):
    edit(ready / "README.md", "## Usage", "{\"text\": \"你好\"}\n\n## Usage")
    (f,) = findings(ready, "DL637")  # the same text outside a code block
    line, col = line_of(ready / "README.md", "你好")
    assert f.span == Span(Pos(line, col), Pos(line, col + 2))
    edit(ready / "README.md", "{\"text\": \"你好\"}\n", "")
    edit(ready / "README.md", "## Usage", "```json\n{\"text\": \"你好\"}\n```\n\n## Usage")
    assert findings(ready, "DL637") == []


def test_dl638_localized_readme_name(ready: Path):
    (ready / "README_zh.md").write_text("# 中文\n")
    (ready / "README.ja_JP.md").write_text("# 日本語\n")
    (f,) = findings(ready, "DL638")
    assert f.path == norm(ready / "README_zh.md")


def test_dl639_missing_sections(ready: Path):
    (ready / "README.md").write_text("# Tool\n\nhttps://github.com/acme/llm-tool\n")
    got = findings(ready, "DL639")
    assert len(got) == 4 and all(f.span == Span(Pos(0, 0), Pos(0, 6)) for f in got)


# -- dependencies --------------------------------------------------------------------------------


def test_dl640_unpinned_requirement_with_a_fix_from_uv_lock(ready: Path):
    (ready / "requirements.txt").write_text("dify_plugin==0.10.2\n  requests  # http\n")
    (ready / "uv.lock").write_text('version = 1\n\n[[package]]\nname = "requests"\nversion = "2.32.3"\n')
    (f,) = findings(ready, "DL640")
    assert f.span == Span(Pos(1, 2), Pos(1, 10))
    (fix,) = f.fixes
    assert fix.edits[0].new_text == "requests==2.32.3"


def test_dl641_git_and_url_installs(ready: Path):
    (ready / "requirements.txt").write_text("dify_plugin==0.10.2\nfoo @ git+https://github.com/a/foo\nbar @ https://x.example.com/bar.whl\n")
    got = findings(ready, "DL641")
    assert [f.span.start.line for f in got] == [1, 2]


def test_dl642_sdk_below_the_review_floor(ready: Path):
    (ready / "requirements.txt").write_text("dify_plugin>=0.2.0,<0.3.0\n")
    (f,) = findings(ready, "DL642")
    assert f.span == Span(Pos(0, 0), Pos(0, len("dify_plugin>=0.2.0,<0.3.0")))


def test_dl642_in_pyproject_points_at_the_string(ready: Path):
    (ready / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["dify_plugin>=0.5.0,<0.6"]\n')
    (f,) = findings(ready, "DL642")
    assert f.path == norm(ready / "pyproject.toml")
    assert f.span == Span(Pos(2, 17), Pos(2, 17 + len("dify_plugin>=0.5.0,<0.6")))


def test_dl643_lower_bound_only(ready: Path):
    (ready / "requirements.txt").write_text("dify_plugin==0.10.2\nhttpx>=0.27\n")
    (f,) = findings(ready, "DL643")
    assert f.span == Span(Pos(1, 0), Pos(1, 11))


def test_dl644_local_path(ready: Path):
    (ready / "requirements.txt").write_text("dify_plugin==0.10.2\n-e ./lib\n")
    (f,) = findings(ready, "DL644")
    assert f.span == Span(Pos(1, 0), Pos(1, 8))


def test_dl645_large_dependency(ready: Path):
    (ready / "requirements.txt").write_text("dify_plugin==0.10.2\ntorch==2.4.0\n")
    (f,) = findings(ready, "DL645")
    assert f.span == Span(Pos(1, 0), Pos(1, 12))


def test_dl646_invalid_pyproject(ready: Path):
    (ready / "pyproject.toml").write_text("[project\n")
    (f,) = findings(ready, "DL646")
    assert f.path == norm(ready / "pyproject.toml") and f.span.start.line == 0


def test_dl647_missing_include(ready: Path):
    (ready / "requirements.txt").write_text("dify_plugin==0.10.2\n-r extra.txt\n")
    (f,) = findings(ready, "DL647")
    assert f.span == Span(Pos(1, 0), Pos(1, 12))
    (ready / "extra.txt").write_text("requests\n")
    (f,) = findings(ready, "DL640")  # the include is followed
    assert f.path == norm(ready / "extra.txt")


# -- Python --------------------------------------------------------------------------------------


def test_dl650_python_that_does_not_compile(ready: Path):
    (ready / "scripts").mkdir()
    (ready / "scripts" / "bad.py").write_text("def f():\n    return 1\nreturn 2\n")
    (f,) = findings(ready, "DL650")
    assert f.path == norm(ready / "scripts" / "bad.py")
    assert f.span.start == Pos(2, 0)
    assert "'return' outside function" in f.message


def test_dl651_requests_without_timeout(ready: Path):
    edit(ready / "tools" / "llm.py", "\n", '\nimport requests as rq\n\ndef fetch():\n    return rq.get("https://x.example.com")\n')
    (f,) = findings(ready, "DL651")
    line, col = line_of(ready / "tools" / "llm.py", 'rq.get(')
    assert f.span == Span(Pos(line, col), Pos(line, col + len('rq.get("https://x.example.com")')))
    edit(ready / "tools" / "llm.py", '"https://x.example.com")', '"https://x.example.com", timeout=10)')
    assert findings(ready, "DL651") == []


def test_dl652_credential_in_a_log_call(ready: Path):
    edit(ready / "tools" / "llm.py", "\n", "\nimport logging\nlogger = logging.getLogger(__name__)\n\ndef show(api_key):\n    logger.info('key %s', api_key)\n")
    (f,) = findings(ready, "DL652")
    line, col = line_of(ready / "tools" / "llm.py", "logger.info(")
    assert f.span == Span(Pos(line, col), Pos(line, col + len("logger.info('key %s', api_key)")))


def test_dl655_financial_words(ready: Path):
    edit(ready / "README.md", "## Usage", "## Usage\n\nIt can transfer funds between accounts.")
    (f,) = findings(ready, "DL655")
    line, col = line_of(ready / "README.md", "transfer funds")
    assert f.span == Span(Pos(line, col), Pos(line, col + len("transfer funds")))
    assert "asset transfer" in f.message


def test_dl650_newer_syntax_is_judged_as_the_reviews_python_would(ready: Path):
    # PEP 701 f-strings: Python 3.12 (the review's) compiles them, 3.11 does not
    (ready / "tools" / "fmt.py").write_text('url = "a/b"\nmessage = f"{url.split("/")[0]}"\n')
    import sys

    got = findings(ready, "DL650")
    if sys.version_info >= (3, 12):
        assert got == []
        (ready / "tools" / "fmt.py").write_text('url = "a/b"\nmessage = f"{url.split("/")[0]"\n')
        (f,) = findings(ready, "DL650")  # a brace short: no Python compiles it
        assert f.span.start.line == 1
    else:
        (f,) = got
        assert f.severity.label == "warning" and "Python 3.12" in f.message
        assert f.span.start.line == 1


def test_dl652_calls_count_by_their_arguments_as_the_review_reads_them(ready: Path):
    edit(ready / "tools" / "llm.py", "\n", "\ndef one(self):\n    return self.get_token()\n\ndef two(self):\n    return self.api_key\n")
    (f,) = findings(ready, "DL652")
    line, col = line_of(ready / "tools" / "llm.py", "return self.api_key")
    assert f.span == Span(Pos(line, col), Pos(line, col + len("return self.api_key")))
