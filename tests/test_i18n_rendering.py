"""Every message read as a native developer would read it, in Chinese and in Japanese.

Each catalog text is rendered with realistic values, both Latin names (`temperature`, `tools/search.yaml`)
and CJK phrases (a translated title such as 工具提供者 / ツールプロバイダー, as a nested message gives),
and must show: no English word outside code spans, quotes and the values themselves (names of Dify, the
SDK and the plugin's own keys stay as written, see GLOSSARY.md), no space between two CJK characters nor a
doubled space, and no term the glossary replaced by Dify's own.  The rule modules must not join English
into a message behind the catalogs' back (a literal word passed as a message argument).
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

from dify_lsp.i18n import CJK, Listing, Message, fill_cjk, msg, placeholders, tr
from dify_lsp.i18n_catalogs import collect, parse_po, po_path, translated_languages

REPO = Path(__file__).resolve().parent.parent

# Words that stay English in both languages: names of products, formats and tools, and abbreviations
# (GLOSSARY.md "Never translated" and the terms it keeps, e.g. zh "manifest", "schema", "session").
KEPT = {
    "Dify", "SDK", "LLM", "LLMs", "YAML", "JSON", "Python", "API", "URL", "HTTP", "HTTPS", "OAuth", "CI", "LSP", "UTF",
    "MIME", "PEP", "ID", "README", "GitHub", "Go", "CLI", "Ctrl", "MB", "TCP", "CPU", "XML", "JUnit", "SARIF", "VS",
    "Code", "Chatflow", "Agent", "Rerank", "Key", "Marketplace", "manifest", "schema", "session", "Schema", "Language",
    "Server", "Protocol", "Editor", "setup", "Actions", "Pre", "Check", "Plugin", "Endpoint", "Tool", "AgentStrategy",
    "Markdown", "Unicode", "Windows", "macOS", "Linux", "uv", "pip", "glob", "token", "tokens", "blob", "base64",
    "webhook", "Webhook", "werkzeug", "stdin", "stdout", "stderr", "venv", "PyYAML", "MCP", "OpenAI", "Ollama",
    "USD", "PATH", "METHOD", "NAME", "VALUE", "FILE", "DIR", "PORT", "TYPE", "MODEL", "KIND", "COMMAND", "LANG",
    "MAJOR", "MINOR", "PATCH", "TEXT", "ALL", "Hans", "Hant", "Pydantic", "pydantic", "noqa", "Docker", "yaml",
    "None", "True", "False", "KeyError", "AttributeError", "TypeError", "ValueError", "ImportError", "ModuleNotFoundError",
    "dict", "str", "int", "list", "print", "logging", "self", "pyproject", "toml", "requirements", "txt", "md",
    "difypkg", "difyignore", "py", "mp3", "svg", "png", "Bearer", "info", "id", "Shell", "Serverless",
    "TTS", "ASR", "RAG",
}
# The text format's own field names, shown as the format is written.
LAYOUT_NAMES = "path:line:col: severity code message"
# Names of several words (products, protocols).
PROPER_NAMES = ("Model Context Protocol", "Language Server Protocol", "Claude Code", "Gemini CLI", "Copilot")
# Terms the glossary settled (Dify's own UI and docs): a catalog that still says the left one is wrong.
NOT_THE_GLOSSARY = {
    "zh_Hans": {"工具供应商": "工具提供者", "数据源供应商": "数据源提供者", "触发器供应商": "触发器提供者",
                "Agent 策略供应商": "Agent 策略提供者", "Endpoint 组": "端点组", "OAuth 配置": "OAuth schema"},
    "ja_JP": {"パラメーター": "パラメータ", "ツールのパラメータ": "ツールパラメータ", "プラグインを呼ぶ": "呼び出す",
              "を呼ぶ": "を呼び出す", "を呼んで": "を呼び出して", "捨て": "破棄", "個のプラグイン": "プラグイン {count} 件",
              "OAuth 設定": "OAuth スキーマ"},
}
# A word that is only English where the template says it outside names: `zh 必需` is Python's own wording for
# a call's required argument, and nothing else.
ZH_REQUIRED_ARGUMENT = "必需"

CODE = re.compile(r"`[^`]*`")
QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|“[^”]*”|「[^」]*」")
WORD = re.compile(r"[A-Za-z][A-Za-z']+")
FIELD = re.compile(r"\{[^{}]*\}")
# A token that is a name, not prose: it has a digit, an underscore, a dot, a slash, a hyphen, an inner capital,
# or is called or indexed (`print(`, `tool_parameters[`).
NAME_LIKE = re.compile(r"\S*([0-9_./\\<>:=@$%*#-]|[a-z][A-Z]|\w[(\[])\S*")


@lru_cache(maxsize=None)
def known_names() -> frozenset[str]:
    """Keys, values and Python names a message may show bare (they are what the user writes)."""
    from dify_lsp.schema import plugin_files as pf
    from dify_lsp.sdk import catalog
    from dify_lsp.sdk.classes import SDK_CLASSES

    names: set[str] = set()
    for f in pf.all_fields():
        names.add(f.name)
        names.update(str(v) for v in (f.enum or {}))
    for t in catalog.TYPES.values():
        names.add(t.name)
        names.update(a.name for a in t.attrs)
        names.update(m.name for m in t.methods)
    names.update(SDK_CLASSES)
    return frozenset(n for part in names for n in re.split(r"[^A-Za-z]+", part) if n)


def prose_words(text: str, english: str) -> list[str]:
    """English left in a translation ``text`` of ``english``: a run of two or more plain words, or a word the
    English text does not have.  Code, quoted text, names (with a digit, `_`, `.`, `/`, `-` or an inner
    capital), the plugin's keys and values, Python names and the kept terms do not count; a single word the
    English text has too is a value or option named there (`--format text`, `dify-lsp check`)."""
    text = CODE.sub(" | ", text).replace(LAYOUT_NAMES, " | ")
    for name in PROPER_NAMES:
        text = text.replace(name, " | ")
    text = QUOTED.sub(" | ", text)
    out: list[str] = []
    run: list[str] = []
    for token in re.split(r"(\s+|[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+)", text):
        if not token or token.isspace():
            continue
        if CJK.match(token):  # Chinese or Japanese text ends a run of English words
            if len(run) >= 2 or any(w not in english for w in run):
                out.extend(run)
            run = []
            continue
        plain = re.fullmatch(r"[(\[]?([A-Za-z][a-z']*|[A-Z]+[a-z]*)[)\],.;:!?]?", token)
        word = plain.group(1) if plain else None
        if word is None or NAME_LIKE.fullmatch(token) or word in KEPT or word in known_names():
            if len(run) >= 2 or any(w not in english for w in run):
                out.extend(run)
            run = []
            continue
        run.append(word)
        if not plain.group(0).endswith(word):  # punctuation closes the run
            if len(run) >= 2 or any(w not in english for w in run):
                out.extend(run)
            run = []
    if len(run) >= 2 or any(w not in english for w in run):
        out.extend(run)
    return out


@pytest.fixture(scope="module")
def texts() -> dict[str, list[str]]:
    return collect()


@pytest.fixture(scope="module", params=translated_languages())
def catalog(request):
    return request.param, parse_po(po_path(request.param).read_text(encoding="utf-8"))


LATIN_VALUE = "x_value"
CJK_VALUE = {"zh_Hans": "工具提供者", "ja_JP": "ツールプロバイダー"}


def rendered(template: str, language: str, entries: dict[str, str]) -> list[tuple[str, set[str]]]:
    """The translation filled with Latin values, then with a CJK phrase in each placeholder in turn (as a
    nested message gives); with the values used."""
    text = entries[template]
    names = sorted(placeholders(template))
    rounds = [{n: LATIN_VALUE for n in names}] + [{n: CJK_VALUE[language] if n == one else LATIN_VALUE for n in names} for one in names]
    out = []
    for args in rounds:
        try:
            out.append((fill_cjk(text, args), set(args.values())))
        except (KeyError, IndexError, ValueError):
            out.append((text, set()))
    return out


def _is_layout(template: str) -> bool:
    """Command-line help laid out in columns: its spacing is alignment, not prose."""
    return "\n  " in template or template.startswith("  ") or "%(" in template or "   " in template


def test_no_english_outside_names(catalog, texts):
    language, entries = catalog
    bad = []
    for template in texts:
        if not entries.get(template) or not re.search(r"[a-z]{2,} [a-z]{2,}", CODE.sub("", template)):
            continue  # a name or a single word: nothing to translate around it
        for text, values in rendered(template, language, entries):
            for value in values:
                text = text.replace(value, " ")
            words = prose_words(text, template)
            if words:
                bad.append((template, entries[template], words))
                break
    assert not bad, f"{language}: {len(bad)} texts keep English prose, e.g.\n" + "\n".join(f"  {t!r}\n    -> {s!r}: {w}" for t, s, w in bad[:8])


def test_no_stray_or_doubled_spaces(catalog, texts):
    language, entries = catalog
    bad = []
    for template in texts:
        if not entries.get(template) or _is_layout(template):
            continue
        for text, _ in rendered(template, language, entries):
            if re.search(f"{CJK.pattern} +{CJK.pattern}", text) or re.search(r"\S  +\S", text) \
                    or re.search(r" [，。、：；！？）」』]|[，。、：；！？（「『] ", text):
                bad.append((template, text))
                break
    assert not bad, f"{language}: {len(bad)} texts with a stray space, e.g.\n" + "\n".join(f"  {t!r}\n    -> {s!r}" for t, s in bad[:8])


HAN_KANA = "[\u3040-\u30ff\u3400-\u9fff]"


def test_latin_values_are_set_off_by_a_space(catalog, texts):
    # A name filled into Chinese or Japanese text gets a space on each side (`调用 LLM`, `x_value が`).
    language, entries = catalog
    bad = []
    for template in texts:
        if not entries.get(template) or _is_layout(template):
            continue
        text = CODE.sub("`c`", rendered(template, language, entries)[0][0])
        if re.search(f"{LATIN_VALUE}{HAN_KANA}|{HAN_KANA}{LATIN_VALUE}", text):
            bad.append((template, text))
    assert not bad, f"{language}: " + "\n".join(f"  {t!r}\n    -> {s!r}" for t, s in bad[:8])


def test_terms_follow_the_glossary(catalog):
    language, entries = catalog
    wrong = [(k, v, bad) for k, v in entries.items() if k for bad in NOT_THE_GLOSSARY[language] if bad in v]
    if language == "zh_Hans":
        wrong += [(k, v, ZH_REQUIRED_ARGUMENT) for k, v in entries.items() if ZH_REQUIRED_ARGUMENT in v and "argument" not in k]
    assert not wrong, f"{language}: " + "\n".join(f"{b!r} in {v!r} (glossary: {NOT_THE_GLOSSARY[language].get(b, '必填')})" for _, v, b in wrong[:8])


def test_glossary_names_its_sources():
    text = (REPO / "dify_lsp" / "locales" / "GLOSSARY.md").read_text(encoding="utf-8")
    for term in ("工具提供者", "端点", "パラメータ", "必填"):
        assert term in text
    assert "web/i18n/zh-Hans" in text and "web/i18n/ja-JP" in text


# -- the spacing of filled placeholders --------------------------------------------------------------------
def test_no_space_between_a_cjk_value_and_cjk_text():
    m = msg("unknown key `{key}` in {value}{did_you_mean}; it is ignored. Known keys: {known}",
            key="icons", value=Message("tool provider"), did_you_mean="", known="identity")
    zh, ja = tr(m, "zh_Hans"), tr(m, "ja_JP")
    assert "工具提供者中" in zh and "工具提供者 中" not in zh
    assert "ツールプロバイダーに" in ja
    latin = msg("unknown key `{key}` in {value}{did_you_mean}; it is ignored. Known keys: {known}",
                key="icons", value="`identity`", did_you_mean="", known="name")
    assert "`identity` 中有" in tr(latin, "zh_Hans")  # a Latin value keeps its space


def test_listing_is_said_in_each_language():
    items = Listing(["'a'", "'b'", "'c'"], last="or")
    assert str(items) == "'a', 'b' or 'c'"
    assert tr(items, "zh_Hans") == "'a'、'b' 或 'c'"
    assert tr(items, "ja_JP") == "'a'、'b' または 'c'"
    nested = Listing([Message("tool provider"), Message("model provider")])
    assert tr(nested, "zh_Hans") == "工具提供者、模型供应商"


# -- no English joined in behind the catalogs ------------------------------------------------------------------
MARKED = {"msg", "Message", "N_", "tr", "did_you_mean", "Listing"}


def _literal_english(node: ast.AST, lists: bool) -> list[str]:
    """English words written as literals inside a message argument (nested messages are catalog texts); with
    ``lists``, a list joined with ", " too (the family rule modules and the CLI say lists with i18n.Listing)."""
    found: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Call) and (getattr(n.func, "id", None) or getattr(n.func, "attr", None)) in MARKED or isinstance(n, ast.Compare):
            continue  # nested messages are catalog texts; a literal compared against is no text shown
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and re.search(r"[A-Za-z]{2,}", QUOTED.sub("", CODE.sub("", n.value))):
            found.append(n.value)
        if lists and isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "join" and isinstance(n.func.value, ast.Constant) \
                and n.func.value.value not in ("", ".", "/"):
            found.append(f"{n.func.value.value!r}.join(...) (a list is an i18n.Listing)")
        stack.extend(ast.iter_child_nodes(n))
    return found


# Literal words that are names or commands, not prose.
LITERAL_NAMES = {"session", "sync", "pip install -r"}


def test_rule_messages_join_no_english():
    listing_modules = set(_checked_modules())  # the rule modules, the CLI, MCP and rename say lists with i18n.Listing
    bad = []
    for path in sorted((REPO / "dify_lsp").rglob("*.py")):
        if "invocation" in path.parts or path.name == "i18n.py":
            continue  # the run report's texts are the runner's; i18n.py is what says lists in each language
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in ("msg", "Message"):
                for kw in node.keywords:
                    words = [w for w in _literal_english(kw.value, lists=path in listing_modules) if w not in LITERAL_NAMES]
                    if words:
                        bad.append(f"{path.relative_to(REPO)}:{node.lineno}: {kw.arg}={words}")
    assert not bad, "English joined into a message (write a whole sentence per case):\n" + "\n".join(bad)


# -- real findings, rendered ---------------------------------------------------------------------------------
def _broken_plugins(tmp: Path) -> list[Path]:
    """The example tool plugin and the model provider fixture, edited so that many rules fire."""
    import shutil

    from conftest import copy_fixture

    tool = tmp / "llm-tool"
    shutil.copytree(REPO / "examples" / "llm-tool", tool, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))

    def edit(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    edit(tool / "tools" / "llm.yaml", "  name: llm\n", "  name: Bad Name!\n  icons: x\n")
    edit(tool / "tools" / "llm.yaml", "parameters:\n", "parameters:\n  - name: extra\n    type: strin\n    required: true\n"
         "    form: llm\n    label:\n      en_US: Extra\n      url: http://x\n    human_description:\n      zh_Hans: 无\n    multiple: true\n")
    edit(tool / "manifest.yaml", "version: 0.0.1", "version: 1.0")
    edit(tool / "manifest.yaml", "      llm: true\n", "      llm: true\n      rerank: true\n    storage:\n      enabled: true\n")
    edit(tool / "tools" / "llm.py", "        for chunk in response:",
         "        x = tool_parameters.get('temperature')\n        print(x)\n        self.session.model.summary('a')\n"
         "        self.session.model.text_embedding.invoke(model_config=tool_parameters['model'], texts=[str(x)])\n        for chunk in response:")
    (tool / "tools" / "stray.yaml").write_text((tool / "tools" / "llm.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    edit(tool / "provider" / "llm.yaml", "  - tools/llm.yaml\n", "  - tools/llm.yaml\n  - tools/missing.yaml\n")

    model = copy_fixture(tmp, "kinds", "model_provider")
    position = model / "models" / "llm" / "_position.yaml"
    edit(position, "- nimbus-chat-mini", "- nimbus-chat-mimi\n  - nimbus-chat-large")
    edit(model / "models" / "llm" / "nimbus-chat-mini.yaml", "model_type: llm", "model_type: rerank")
    return [tool, model]


@pytest.fixture(scope="module")
def real_findings(tmp_path_factory):
    from dify_lsp.checker import check_plugin
    from dify_lsp.index import PluginIndex

    out = []
    for root in _broken_plugins(tmp_path_factory.mktemp("rendering")):
        report = check_plugin(PluginIndex(), root)
        assert not report.crashes
        out.extend(report.findings)
    return out


def _name_values(message) -> set[str]:
    """The one-word plain values somewhere in a message's arguments (names, not prose)."""
    out: set[str] = set()
    stack = [message]
    while stack:
        m = stack.pop()
        if isinstance(m, Listing):
            stack.extend(m.items)
        elif isinstance(m, Message):
            stack.extend(m.args.values())
        elif isinstance(m, (str, int, float)) and str(m) and not re.search(r"\s", str(m)):
            out.add(str(m))
    return out


def _templates(message) -> list[str]:
    """The English templates of a message and of the messages nested in it."""
    out: list[str] = []
    stack = [message]
    while stack:
        m = stack.pop()
        if isinstance(m, Listing):
            stack.extend(m.items)
        elif isinstance(m, Message):
            out.append(m.template)
            stack.extend(m.args.values())
    return out


def _texts_of(finding):
    yield finding.message
    for r in finding.related:
        yield r.message
    for fix in finding.fixes:
        yield fix.title


def test_real_findings_read_natively(real_findings):
    codes = {f.code for f in real_findings}
    assert len(codes) >= 20, sorted(codes)  # a wide sample of rules, YAML and Python
    bad = []
    for language in translated_languages():
        for f in real_findings:
            for message in _texts_of(f):
                said = tr(message, language)
                assert said != str(message) or not re.search(r"[a-z]{3,} [a-z]{3,}", str(message)), (language, f.code, said)
                # Only the template's own words may stay: an English word a value brings in is a fragment
                # joined behind the catalogs.  A value of one word is a name the plugin chose (a key, a model).
                text = said
                for name in sorted(_name_values(message), key=len, reverse=True):
                    text = text.replace(name, " ")
                words = prose_words(text, " ".join(_templates(message)))
                if words or re.search(f"{CJK.pattern} +{CJK.pattern}", said) or re.search(r"\S  +\S", said):
                    bad.append((language, f.code, said, words))
    assert not bad, "\n".join(f"{lang} {code}: {said!r} {words}" for lang, code, said, words in bad[:10])


# -- no English sentence shown behind the catalogs' back ------------------------------------------------------
# Where a text reaches a person: an editor message, a request's error, a line on stderr, a refusal raised.
SHOWN_BY = {"show_message", "write", "JsonRpcException", "ResponseError"}
RAISED = re.compile(r"(Error|Exception|Refused)$")
# A sentence: two English words in a row, once code, quoted text and the program's own name are taken out.
SENTENCE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")
PROGRAM = re.compile(r"dify-lsp(?: [a-z]+)?(?: --[a-z-]+)?")


def _checked_modules() -> list[Path]:
    """The modules whose texts reach users directly; the runner (invocation/, features/run_*.py) says its own."""
    pkg = REPO / "dify_lsp"
    paths = [pkg / "cli.py", pkg / "scaffold_cli.py", pkg / "plugin_names.py", *sorted((pkg / "mcp").glob("*.py")),
             *sorted((pkg / "rules").rglob("*.py"))]
    paths += [p for p in sorted((pkg / "features").glob("*.py")) if not p.name.startswith("run_")]
    # The registries' self-checks fail at import, for the developer who wired a rule or a feature wrong.
    return [p for p in paths if p.exists() and p.name != "registry.py"]


def _english_sentence(node: ast.AST) -> str | None:
    """The English prose an argument writes out itself (a literal or an f-string's literal parts), if any."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        parts = [node.value]
    elif isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    elif isinstance(node, ast.BinOp):  # "..." + "..."
        return _english_sentence(node.left) or _english_sentence(node.right)
    else:
        return None
    text = PROGRAM.sub(" ", QUOTED.sub(" ", CODE.sub(" ", " {} ".join(parts))))
    return " ".join(parts) if SENTENCE.search(text) else None


def _shown_texts(tree: ast.AST):
    """(line, how, argument) for each text handed to a person: shown, printed to stderr, or raised."""
    raised = {id(n.exc) for n in ast.walk(tree) if isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None) or ""
        to_stderr = name == "print" and any(kw.arg == "file" and "stderr" in ast.unparse(kw.value) for kw in node.keywords)
        returned_refusal = RAISED.search(name) is not None and name[:1].isupper()  # raised, or returned as a refusal
        if name in SHOWN_BY or to_stderr or id(node) in raised or returned_refusal:
            yield node.lineno, name, node.args[0]


def test_texts_shown_to_users_go_through_the_catalogs():
    bad = []
    for path in _checked_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, how, arg in _shown_texts(tree):
            sentence = _english_sentence(arg)
            if sentence:
                bad.append(f"{path.relative_to(REPO)}:{line}: {how}({sentence!r})")
    assert not bad, "English shown without the catalogs (use msg(...) / N_ and tr at the edge):\n" + "\n".join(bad)


def test_the_scan_finds_a_leak():
    leak = ast.parse('def f(ctx, name):\n    ctx.editor.show_message(f"Renamed {name} where it is written", 2)\n'
                     '    raise RenameRefused(f"{name} is too long")\n    print("no plugin found", file=sys.stderr)\n')
    found = [how for _, how, arg in _shown_texts(leak) if _english_sentence(arg)]
    assert found == ["show_message", "RenameRefused", "print"] or sorted(found) == sorted(["show_message", "RenameRefused", "print"])
    fine = ast.parse('def f(ctx, name):\n    ctx.editor.show_message(ctx.tr(msg("Renamed {name}", name=name)), 2)\n'
                     '    print(f"dify-lsp schema: {name}: {err}", file=sys.stderr)\n')
    assert not [how for _, how, arg in _shown_texts(fine) if _english_sentence(arg)]
