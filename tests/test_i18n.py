"""Message catalogs: complete, consistent, compiled; language negotiation; the CLI's --lang."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dify_lsp import i18n
from dify_lsp.i18n import ENGLISH, Message, choose, msg, normalize, placeholders, tr
from dify_lsp.i18n_catalogs import collect, compile_mo, mo_path, parse_po, po_path, translated_languages

REPO = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
# Markdown and code that a translation must carry over unchanged.
CODE_SPAN = re.compile(r"`[^`]+`")


@pytest.fixture(scope="module")
def texts() -> dict[str, list[str]]:
    return collect()


@pytest.fixture(scope="module", params=translated_languages())
def catalog(request) -> tuple[str, dict[str, str]]:
    return request.param, parse_po(po_path(request.param).read_text(encoding="utf-8"))


def test_every_text_has_a_translation(texts, catalog):
    language, entries = catalog
    missing = [t for t in texts if not entries.get(t)]
    assert not missing, f"{language}: {len(missing)} untranslated (python -m dify_lsp.i18n_catalogs update), e.g. {missing[:5]}"


def test_no_stale_entries(texts, catalog):
    language, entries = catalog
    stale = [k for k in entries if k and k not in texts]
    assert not stale, f"{language}: entries no longer used (python -m dify_lsp.i18n_catalogs update): {stale[:5]}"


def test_placeholders_and_code_match(catalog):
    language, entries = catalog
    for msgid, msgstr in entries.items():
        if not msgid or not msgstr:
            continue
        assert placeholders(msgstr) == placeholders(msgid), (language, msgid, msgstr)
        # Rule codes, keys, Python names in backticks stay as written.
        assert sorted(CODE_SPAN.findall(msgstr)) == sorted(CODE_SPAN.findall(msgid)), (language, msgid, msgstr)
        assert msgstr.count("\n") == msgid.count("\n"), (language, msgid)


def test_translations_are_in_their_script(catalog):
    language, entries = catalog
    script = HAN if language == "zh_Hans" else re.compile(f"{HAN.pattern}|{KANA.pattern}")
    prose = [k for k in entries if k and re.search(r"[a-z]{3,} [a-z]{3,}", CODE_SPAN.sub("", k))]
    foreign = [k for k in prose if not script.search(entries[k])]
    assert not foreign, (language, foreign[:5])
    if language == "zh_Hans":
        assert not [k for k in entries if KANA.search(entries[k])]


def test_mo_files_are_compiled_from_the_po_files():
    for language in translated_languages():
        entries = parse_po(po_path(language).read_text(encoding="utf-8"))
        assert mo_path(language).read_bytes() == compile_mo(entries), f"run python -m dify_lsp.i18n_catalogs compile ({language})"


def test_every_marked_text_in_the_code_is_collected(texts):
    # Every msg(...) / N_(...) in the package passes a plain literal (an f-string could not be looked up), and
    # each literal is in the catalogs.
    import ast

    found = set()
    for path in (REPO / "dify_lsp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ("msg", "N_"):
                continue
            first = node.args[0]
            assert not isinstance(first, ast.JoinedStr), f"{path}:{node.lineno}: an f-string passed to {name}() cannot be translated"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    assert found - set(texts) == set()
    assert len(found) > 150


# -- negotiation ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag, expected", [
    ("zh-cn", "zh_Hans"), ("zh-CN", "zh_Hans"), ("zh_Hans", "zh_Hans"), ("zh", "zh_Hans"), ("zh-Hans-CN", "zh_Hans"),
    ("zh_CN.UTF-8", "zh_Hans"), ("ja", "ja_JP"), ("ja-JP", "ja_JP"), ("ja_JP.eucJP@x", "ja_JP"), ("en", ENGLISH),
    ("en-GB", ENGLISH), ("C.UTF-8", ENGLISH), ("de", None), ("pt-BR", None), ("zh-TW", None), ("zh-Hant", None), ("", None),
])
def test_normalize(tag, expected):
    assert normalize(tag) == expected


def test_choose_order():
    assert choose("ja", "zh-cn", environ={}) == "ja_JP"
    assert choose(None, "zh-cn", environ={"LANG": "ja_JP.UTF-8"}) == "zh_Hans"
    assert choose("de", "zh-cn", environ={}) == ENGLISH  # the first named language decides, unknown means English
    assert choose("auto", None, environ={"LANG": "ja_JP.UTF-8"}) == "ja_JP"
    assert choose(None, environ={"LANGUAGE": "de:zh_CN", "LANG": "ja_JP.UTF-8"}) == "zh_Hans"
    assert choose(None, environ={"LC_ALL": "", "LANG": "fr_FR.UTF-8"}) == ENGLISH
    assert choose(environ={}) == ENGLISH


# -- messages ---------------------------------------------------------------------------------------------
def test_message_is_english_text_and_survives_pickling():
    m = msg("tool parameter '{key}' is not declared in {path}{did_you_mean}; declared parameters: {listed}. {outcome}",
            key="temperature", path="tools/a.yaml", did_you_mean="", listed="'a'", outcome=msg("Workflows and forms send only declared parameters, so there this is always None; an agent's model may add other keys, but that cannot be relied on."))
    assert isinstance(m, str) and m.startswith("tool parameter 'temperature'")
    back = pickle.loads(pickle.dumps(m))
    assert isinstance(back, Message) and back == m and back.args == m.args
    zh = tr(back, "zh_Hans")
    assert "temperature" in zh and "tools/a.yaml" in zh and HAN.search(zh)
    assert tr(m.args["outcome"], "zh_Hans") in zh  # the nested message is translated too


def test_plain_arguments_are_never_translated():
    # "tool" is a catalog text, but as an argument it is a name the plugin chose.
    assert tr("tool", "zh_Hans") != "tool"
    m = Message("Renamed: {values}", values="tool")
    assert "tool" in tr(m, "zh_Hans")


def test_broken_or_missing_translation_falls_back_to_english(monkeypatch):
    m = msg("Since SDK {version}.", version="0.5.0")
    assert tr(m, "de") == str(m) == "Since SDK 0.5.0."

    class Broken:
        def gettext(self, text):
            return "{nope}"

    monkeypatch.setattr(i18n, "catalog", lambda language: Broken())
    assert tr(m, "ja_JP") == "Since SDK 0.5.0."


# -- CLI ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def broken_plugin(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("i18n") / "llm-tool"
    shutil.copytree(REPO / "examples" / "llm-tool", dest, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
    code = dest / "tools" / "llm.py"
    code.write_text(code.read_text().replace(
        "        for chunk in response:",
        '        extra = tool_parameters.get("temperature")\n'
        '        self.session.model.text_embedding.invoke(model_config=tool_parameters["model"], texts=[str(extra)])\n'
        "        for chunk in response:",
    ))
    manifest = dest / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("      llm: true\n", ""))
    return dest


def check(*args: str, env_lang: str = "C.UTF-8") -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "LANG": env_lang, "HOME": str(Path.home())}
    return subprocess.run([sys.executable, "-m", "dify_lsp", "check", "--no-cache", *args], capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120)


def _lines(out: str) -> list[tuple[str, str]]:
    return [(line.split(" ")[2], line) for line in out.splitlines() if " DL" in line]


def test_check_lang_translates_messages_with_the_same_codes(broken_plugin: Path):
    en = check(str(broken_plugin))
    zh = check("--lang", "zh_Hans", str(broken_plugin))
    assert en.returncode == zh.returncode == 1
    en_lines, zh_lines = _lines(en.stdout), _lines(zh.stdout)
    assert [c for c, _ in en_lines] == [c for c, _ in zh_lines]
    assert {"DL207", "DL305", "DL306"} <= {c for c, _ in zh_lines}
    for (code, e), (_, z) in zip(en_lines, zh_lines):
        assert e.split(code)[0] == z.split(code)[0]  # path, position, severity unchanged
        assert HAN.search(z), z
    assert HAN.search(zh.stderr)  # the summary line


def test_check_language_from_environment(broken_plugin: Path):
    ja = check(str(broken_plugin), env_lang="ja_JP.UTF-8")
    assert all(KANA.search(line) for _, line in _lines(ja.stdout))
    de = check(str(broken_plugin), env_lang="de_DE.UTF-8")
    assert de.stdout == check(str(broken_plugin)).stdout


def test_json_has_message_en_beside_the_translated_message(broken_plugin: Path):
    out = json.loads(check("--lang", "ja", "--format", "json", str(broken_plugin)).stdout)
    english = json.loads(check("--format", "json", str(broken_plugin)).stdout)
    assert [set(o) for o in out] == [set(e) for e in english]
    assert {"path", "range", "severity", "code", "message", "message_en"} == set(out[0])
    for o, e in zip(out, english):
        assert o["code"] == e["code"] and o["message_en"] == e["message"] == e["message_en"]
        assert KANA.search(o["message"]), o["message"]


def test_rules_lang():
    out = subprocess.run([sys.executable, "-m", "dify_lsp", "rules", "--lang", "zh-CN"], capture_output=True, text=True,
                         encoding="utf-8", timeout=60).stdout
    rows = [line for line in out.splitlines() if line.startswith("DL")]
    assert len(rows) > 50 and all(HAN.search(r) for r in rows)
    md = subprocess.run([sys.executable, "-m", "dify_lsp", "rules", "--format", "markdown"], capture_output=True, text=True,
                        encoding="utf-8", timeout=60, env={"PATH": "/usr/bin:/bin", "LANG": "zh_CN.UTF-8"}).stdout
    assert not HAN.search(md)  # the README table stays English unless a language is named


def test_run_report_in_the_users_language():
    import io
    from types import SimpleNamespace

    from dify_lsp.invocation.cli import print_result as print_summary

    result = SimpleNamespace(kind="tool", target="t", action="invoke_tool", summary=None,
        transcript=[{"type": "invoke_llm", "backend": "mock", "duration_ms": 1.5, "request": {"model": "m"}, "response": {"text": "hi"}}],
        warnings=["the plugin printed to stdout"], error=None, status="success", duration_ms=12.0, startup_ms=3.0,
        environment_ms=0, python_source="the plugin's .venv", python="/usr/bin/python3",
    )
    en, zh = io.StringIO(), io.StringIO()
    print_summary(result, out=en)
    print_summary(result, out=zh, language="zh_Hans")
    assert "--- reverse invocations (1)" in en.getvalue() and "--- success: tool t (invoke_tool) in 12 ms (plugin start 3 ms)" in en.getvalue()
    assert "--- 反向调用（1 次）" in zh.getvalue()
    assert "invoke_llm [mock] 1.5 ms" in zh.getvalue()  # names and numbers as they are
    assert "the plugin printed to stdout" in zh.getvalue()  # the run's own text is not ours to translate
    assert len(zh.getvalue().splitlines()) == len(en.getvalue().splitlines())


def test_cached_findings_are_translated_too(broken_plugin: Path, tmp_path: Path):
    # The cache keeps the messages as messages (template and arguments), not as English text.
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(Path.home())}
    base = [sys.executable, "-m", "dify_lsp", "check", "--cache-dir", str(tmp_path / "cache"), str(broken_plugin)]
    first = subprocess.run(base, capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)
    assert (tmp_path / "cache").is_dir() and any((tmp_path / "cache").rglob("*.pickle"))
    second = subprocess.run([*base, "--lang", "ja"], capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)
    assert [c for c, _ in _lines(first.stdout)] == [c for c, _ in _lines(second.stdout)]
    assert all(KANA.search(line) for _, line in _lines(second.stdout))
