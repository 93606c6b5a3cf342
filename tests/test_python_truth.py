"""Python rules on real-style plugins: what the SDK accepts gets no finding, what fails gets one at its range.

Each test builds a plugin from the example llm-tool (manifest -> provider -> tool -> Python) and changes the
Python the way published plugins are written: 3.12 syntax, requests sessions, invocation objects built from the
session, maintenance scripts, import-guard stubs, intermediate base classes in other modules, pre-release pins.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from dify_lsp.checker import check_plugin
from dify_lsp.findings import Severity
from dify_lsp.index import PluginIndex
from dify_lsp.rules import python_syntax
from dify_lsp.textpos import Pos, Span

REPO = Path(__file__).resolve().parent.parent

TOOL_HEAD = """\
from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage
"""


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    dest = tmp_path / "truth-tool"
    shutil.copytree(REPO / "examples" / "llm-tool", dest, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    return dest


def write(plugin: Path, rel: str, text: str) -> Path:
    path = plugin / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def tool(plugin: Path, body: str, head: str = TOOL_HEAD, cls: str = "class LLMTool(Tool):") -> Path:
    return write(plugin, "tools/llm.py", head + "\n\n" + cls + "\n" + textwrap.indent(textwrap.dedent(body), "    "))


READS = """\
def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
    prompt = tool_parameters["prompt"]
    model = tool_parameters.get("model")
"""


def findings(plugin: Path, *codes: str):
    report = check_plugin(PluginIndex(), plugin)
    assert not report.crashes, report.crashes
    return [f for f in report.findings if not codes or f.code in codes]


def span_of(path: Path, needle: str, nth: int = 0) -> Span:
    text = path.read_text()
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx)
    col = idx - (text.rfind("\n", 0, idx) + 1)
    return Span(Pos(line, col), Pos(line, col + len(needle)))


# -- 1. Python 3.12 syntax ----------------------------------------------------------------------------

PY312 = READS + """\
    names = {"a": 1}
    yield self.create_text_message(f"{names["a"]} {prompt!r:>{10}}")


type Alias = dict[str, int]


def first[T](items: list[T]) -> T:
    return items[0]


class Box[T]:
    def __init__(self, item: T) -> None:
        self.item = item
"""


def test_python_312_syntax_is_not_a_syntax_error(plugin: Path):
    path = tool(plugin, PY312 + "\ndef broken(:\n    pass\n")
    (f,) = findings(plugin, "DL213")  # the same file with one real error is caught
    assert f.span == span_of(path, "def broken(:")
    tool(plugin, PY312)
    assert findings(plugin, "DL213") == []


def test_python_312_syntax_error_is_reported_at_its_line(plugin: Path):
    path = tool(plugin, READS + "    def broken(:\n        pass\n")
    (f,) = findings(plugin, "DL213")
    assert f.path == path and f.severity == Severity.ERROR and "cannot load" in f.message
    assert f.span == span_of(path, "def broken(:")


def test_without_python_312_a_possible_312_file_gets_no_false_error(plugin: Path, monkeypatch):
    # dify-lsp on 3.11 with no 3.12 anywhere: it cannot tell 3.12 syntax from an error, so it says nothing.
    path = tool(plugin, READS + "    x = (1,\n")
    (f,) = findings(plugin, "DL213")  # with a 3.12 to ask, the same file is an error
    assert f.path == path
    monkeypatch.setattr(python_syntax, "running_python_decides", lambda: False)
    monkeypatch.setattr(python_syntax, "_interpreter", lambda root: None)
    tool(plugin, READS + "    x = (1,\n")
    assert findings(plugin, "DL213") == []


def test_the_312_check_runs_when_the_running_python_is_older(plugin: Path, monkeypatch):
    # Force the subprocess path (what a 3.11 server does) even when the tests run on 3.12.
    monkeypatch.setattr(python_syntax, "running_python_decides", lambda: False)
    path = tool(plugin, PY312)
    if sys.version_info < (3, 12):
        assert findings(plugin, "DL213") == []
    broken = path.read_text() + "\ndef broken(:\n    pass\n"
    path.write_text(broken)
    (f,) = findings(plugin, "DL213")
    assert f.span.start.line == span_of(path, "def broken(:").start.line


def test_syntax_error_in_a_script_nothing_imports_is_a_warning(plugin: Path):
    tool(plugin, READS)
    script = write(plugin, "scripts/maintain.py", "def broken(:\n    pass\n")
    (f,) = findings(plugin, "DL213")
    assert f.path == script and f.severity == Severity.WARNING


# -- 2. only Dify's session ------------------------------------------------------------------------------


def test_requests_session_parameter_is_not_judged(plugin: Path):
    body = READS + """\
    yield self.create_text_message(fetch(self.session_http(), prompt))

def session_http(self):
    return None
"""
    # the same helper taking Dify's Session is judged: Dify's session has no `post`
    path = tool(plugin, body, head=TOOL_HEAD + "from dify_plugin.core.runtime import Session\n\n\ndef fetch(session: Session, url: str) -> str:\n    return session.post(url).text\n")
    (f,) = findings(plugin, "DL201")
    assert f.span == span_of(path, "post")
    tool(plugin, body, head=TOOL_HEAD + "import requests\n\n\ndef fetch(session: requests.Session, url: str) -> str:\n    return session.post(url).text\n")
    assert findings(plugin, "DL201") == []


def test_plugin_base_class_with_its_own_requests_session_is_not_judged(plugin: Path):
    write(plugin, "tools/client.py", """\
        import requests


        class ApiClient:
            def __init__(self):
                self.session = requests.session()

            def get(self, url):
                return self.session.get(url, timeout=10)
        """)
    tool(plugin, READS + "    self.session.close()\n", head=TOOL_HEAD + "from tools.client import ApiClient\n",
         cls="class Helper(ApiClient):\n    def fetch(self):\n        return self.session.post('x')\n\n\nclass LLMTool(Tool):")
    # Helper's self.session is the requests session ApiClient sets: not judged (no finding on `post` or `get`);
    # the Tool's own self.session is Dify's, which has no `close`
    (f,) = findings(plugin, "DL201")
    assert f.path == plugin / "tools/llm.py" and f.span == span_of(plugin / "tools/llm.py", "close")


def test_tool_through_an_intermediate_class_in_another_module_is_judged(plugin: Path):
    write(plugin, "tools/base.py", """\
        from dify_plugin import Tool


        class BaseTool(Tool):
            def helper(self):
                return self.session.model.embedding
        """)
    path = plugin / "tools/base.py"
    tool(plugin, READS, head=TOOL_HEAD.replace("from dify_plugin import Tool\n", "") + "from tools import base\n",
         cls="class LLMTool(base.BaseTool):")
    (f,) = findings(plugin, "DL201")
    assert f.path == path and f.span == span_of(path, "embedding")


def test_sdk_session_annotation_is_judged_but_a_local_session_class_is_not(plugin: Path):
    tool(plugin, READS, head=TOOL_HEAD + """\
from dify_plugin.core.runtime import Session


def summarize(session: Session) -> str:
    return session.model.summary("x")


class Session2:
    pass


def other(session: "Session2"):
    return session.model.summary("x")
""")
    path = plugin / "tools/llm.py"
    (f,) = findings(plugin, "DL202")
    assert f.span == span_of(path, "summary")


# -- 3. invocation objects built from the session ---------------------------------------------------------


def test_invocation_object_needs_its_permission_and_is_checked_like_a_session_call(plugin: Path):
    path = tool(plugin, READS + """\
    chat = ChatAppInvocation(self.session)
    answer = chat.invoke(app_id="a", query=prompt, response_mode="blocking")
    yield self.create_json_message(StorageInvocation(self.session).get("k"))
""", head=TOOL_HEAD + "from dify_plugin.invocations.app.chat import ChatAppInvocation\nfrom dify_plugin.invocations.storage import StorageInvocation\n")
    missing = findings(plugin, "DL306")
    assert {f.span.start.line for f in missing} == {span_of(path, "chat.invoke").start.line, span_of(path, "StorageInvocation(self.session).get").start.line}
    (arg,) = findings(plugin, "DL204")  # inputs is required
    call = span_of(path, "invoke(app_id")
    assert arg.span == Span(call.start, Pos(call.start.line, call.start.col + len("invoke"))) and "inputs" in arg.message


# -- 6 / 9. print -------------------------------------------------------------------------------------------


def test_print_only_where_the_plugin_runs_it(plugin: Path):
    helper = write(plugin, "tools/helpers.py", """\
        import sys


        def shout(text):
            print(text)
            print(text, file=sys.stderr)


        if __name__ == "__main__":
            print("run by hand")
        """)
    write(plugin, "scripts/release.py", 'print("maintenance script nobody imports")\n')
    tool(plugin, READS + "    shout(prompt)\n", head=TOOL_HEAD + "from .helpers import shout\n")
    (f,) = findings(plugin, "DL209")
    assert f.path == helper and f.span == span_of(helper, "print", 0)
    assert "the text is lost" in f.message and "dify_plugin.config.logger_format.plugin_logger_handler" in f.message


# -- 7. plugin classes as the SDK finds them ------------------------------------------------------------------


def test_import_guard_stub_is_not_the_base(plugin: Path):
    # the stub alone (no SDK import before it) really is the base: the SDK finds no Tool subclass
    tool(plugin, READS, head="""\
from collections.abc import Generator
from typing import Any

ToolInvokeMessage = Any


class Tool:
    pass
""")
    (f,) = findings(plugin, "DL211", "DL212", "DL215")
    assert f.code == "DL211"
    tool(plugin, READS, head="""\
from collections.abc import Generator
from typing import Any

try:
    from dify_plugin import Tool
    from dify_plugin.entities.tool import ToolInvokeMessage
except ImportError:
    class Tool:
        pass

    ToolInvokeMessage = Any
""")
    assert findings(plugin, "DL211", "DL212", "DL215") == []


def test_model_provider_through_a_module_alias_and_intermediate_class(tmp_path: Path):
    root = tmp_path / "truth-model"
    shutil.copytree(REPO / "tests" / "fixtures" / "real_plugins" / "model_provider", root)
    provider_yaml = next(p for p in (root / "provider").glob("*.yaml"))
    source = [line for line in provider_yaml.read_text().splitlines() if "provider_source" in line][0].split(":", 1)[1].strip()
    write(root, "provider/compat.py", """\
        from dify_plugin import ModelProvider


        class CompatProvider(ModelProvider):
            def validate_provider_credentials(self, credentials: dict) -> None:
                pass
        """)
    write(root, source, """\
        from provider import compat


        class RealProvider(compat.CompatProvider):
            pass
        """)
    assert [f for f in findings(root, "DL211", "DL215") if f.path.parent.name == "provider"] == []
    # the chain is really followed: an intermediate that leaves the abstract method open makes RealProvider abstract
    compat = root / "provider" / "compat.py"
    compat.write_text(compat.read_text().replace("def validate_provider_credentials", "def other"))
    got = [f for f in findings(root, "DL211", "DL215") if f.path.parent.name == "provider"]
    assert [f.code for f in got] == ["DL215"] and got[0].span == span_of(root / source, "RealProvider")
    compat.write_text(compat.read_text().replace("def other", "def validate_provider_credentials"))
    # the intermediate imported *by name* is bound in the module too: the SDK finds two subclasses
    path = write(root, source, """\
        from provider.compat import CompatProvider


        class RealProvider(CompatProvider):
            pass
        """)
    (f,) = findings(root, "DL212")
    assert f.path == path and f.span == span_of(path, "RealProvider") and "CompatProvider" in f.message


def test_unknown_base_says_nothing(plugin: Path):
    # a base known not to be a Tool is reported ...
    tool(plugin, READS, head=TOOL_HEAD + "\n\nclass FancyTool:\n    pass\n", cls="class LLMTool(FancyTool):")
    assert [f.code for f in findings(plugin, "DL211", "DL215")] == ["DL211"]
    # ... one that cannot be known is not
    tool(plugin, READS, head=TOOL_HEAD + "from somelib.tools import FancyTool\n", cls="class LLMTool(FancyTool):")
    assert findings(plugin, "DL211", "DL215") == []


# -- abstract methods ------------------------------------------------------------------------------------------------


def test_tool_without_invoke_cannot_be_instantiated(plugin: Path):
    path = tool(plugin, "def run(self, tool_parameters):\n    return []\n")
    (f,) = findings(plugin, "DL215")
    assert f.path == path and f.span == span_of(path, "LLMTool") and "'_invoke'" in f.message


def test_endpoint_overriding_invoke_instead_of_underscore_invoke(plugin: Path):
    path = tool(plugin, READS + "\ndef invoke(self, tool_parameters):\n    return []\n", cls="class Hook(Endpoint):\n    pass\n\n\nclass LLMTool(Tool):")
    write(plugin, "endpoints/hook.py", """\
        from dify_plugin import Endpoint


        class Hook(Endpoint):
            def invoke(self, r, values, settings):
                return None
        """)
    # the endpoint is loaded only when an endpoint YAML names it: build the group
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("    - provider/llm.yaml\n", "    - provider/llm.yaml\n  endpoints:\n    - group/hook.yaml\n"))
    write(plugin, "group/hook.yaml", "settings: []\nendpoints:\n  - endpoints/hook.yaml\n")
    write(plugin, "endpoints/hook.yaml", "path: /hook\nmethod: POST\nextra:\n  python:\n    source: endpoints/hook.py\n")
    hook = plugin / "endpoints/hook.py"
    got = [f for f in findings(plugin, "DL215") if f.path == hook]
    assert len(got) == 1 and got[0].span == span_of(hook, "Hook") and "rename it to _invoke" in got[0].message
    assert path.exists()


# -- 10. DL210 by PEP 440 and the release history ---------------------------------------------------------------------


def test_prerelease_pin_that_already_has_the_member(plugin: Path):
    (plugin / "requirements.txt").write_text("dify_plugin>=0.0.1b66\n")
    tool(plugin, READS + '    yield self.create_text_message(self.session.model.summary.invoke(text=prompt, instruction="x"))\n')
    assert findings(plugin, "DL210") == []
    (plugin / "requirements.txt").write_text("dify_plugin>=0.0.1b10\n")  # a floor older than the member
    (f,) = findings(plugin, "DL210")
    assert f.code == "DL210"


def test_prerelease_pin_older_than_the_member(plugin: Path):
    (plugin / "requirements.txt").write_text("dify_plugin==0.0.1b10\n")
    path = tool(plugin, READS + '    yield self.create_text_message(self.session.model.summary.invoke(text=prompt, instruction="x"))\n')
    (f,) = findings(plugin, "DL210")
    assert f.span == span_of(path, "summary") and "0.0.1b14" in f.message


def test_pyproject_wins_over_requirements(plugin: Path):
    (plugin / "requirements.txt").write_text("dify_plugin==0.0.1b10\n")
    (plugin / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0.1"\ndependencies = ["dify-plugin>=0.4.0,<0.11"]\n')
    path = tool(plugin, READS + '    yield self.create_text_message(self.session.model.summary.invoke(text=prompt, instruction="x"))\n')
    assert findings(plugin, "DL210") == []
    (plugin / "pyproject.toml").unlink()  # without it, the old requirements.txt pin decides
    (f,) = findings(plugin, "DL210")
    assert f.span == span_of(path, "summary")


# -- 11. DL207 / DL214 ------------------------------------------------------------------------------------------------


def test_get_with_default_says_the_default(plugin: Path):
    path = tool(plugin, READS + '    language = tool_parameters.get("language", "French")\n')
    (f,) = findings(plugin, "DL207")
    assert f.span == span_of(path, '"language"') and '"French"' in f.message and "None" not in f.message
    assert f.severity == Severity.WARNING


def test_subscript_of_an_undeclared_parameter_is_a_keyerror(plugin: Path):
    path = tool(plugin, READS + '    language = tool_parameters["language"]\n')
    (f,) = findings(plugin, "DL214")
    assert f.span == span_of(path, '"language"') and "KeyError" in f.message and f.severity == Severity.ERROR
    assert findings(plugin, "DL207") == []
    path = tool(plugin, READS + '    language = tool_parameters.get("language")\n')  # read with .get: DL207, not DL214
    assert [(f.code, f.span) for f in findings(plugin, "DL207", "DL214")] == [("DL207", span_of(path, '"language"'))]


# -- misses -------------------------------------------------------------------------------------------------------------


def test_wrapped_model_config_in_a_variable_is_followed(plugin: Path):
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("      llm: true\n", "      llm: true\n      tts: true\n"))
    path = tool(plugin, READS + """\
    cfg = TTSModelConfig(**tool_parameters["model"])
    audio = self.session.model.tts.invoke(model_config=cfg, content_text=prompt)
""", head=TOOL_HEAD + "from dify_plugin.entities.model.tts import TTSModelConfig\n")
    (f,) = findings(plugin, "DL305")
    assert f.span == span_of(path, "cfg", 1)


def test_dependencies_without_the_sdk(plugin: Path):
    req = plugin / "requirements.txt"
    req.write_text("requests>=2\n")
    tool(plugin, READS)
    (f,) = findings(plugin, "DL217")
    assert f.path == req and "No module named 'dify_plugin'" in f.message
    req.write_text("requests>=2\ndify-plugin>=0.4\n")
    assert findings(plugin, "DL217") == []
    # pyproject.toml wins: requirements.txt is not read when it exists
    (plugin / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0.1"\ndependencies = ["requests"]\n')
    (f,) = findings(plugin, "DL217")
    assert f.path == plugin / "pyproject.toml"


def test_entrypoint_module_missing(plugin: Path):
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("entrypoint: main", "entrypoint: app"))
    (f,) = findings(plugin, "DL216")
    assert f.path == manifest and f.span == span_of(manifest, "app", manifest.read_text().count("app") - 1)
    assert "No module named app" in f.message
    manifest.write_text(manifest.read_text().replace("entrypoint: app", "entrypoint: main"))
    assert findings(plugin, "DL216") == []


# -- issue 14: credentials and settings read in code ----------------------------------------------------------------


def _with_credentials(plugin: Path, yaml_block: str) -> Path:
    provider = plugin / "provider" / "llm.yaml"
    text = provider.read_text()
    provider.write_text(text.replace("tools:\n", yaml_block + "tools:\n", 1))
    return provider


CREDENTIALS = """\
credentials_for_provider:
  api_key:
    type: secret-input
    required: true
    label:
      en_US: API key
"""


def test_credential_read_that_the_provider_does_not_declare(plugin: Path):
    _with_credentials(plugin, CREDENTIALS)
    path = tool(plugin, READS + """\
    key = self.runtime.credentials["api_key"]
    base = self.runtime.credentials.get("base_url", "https://api.example.com")
    token = self.runtime.credentials["api_kye"]
""")
    got = sorted(findings(plugin, "DL218"), key=lambda f: f.span.start)
    assert [f.span for f in got] == [span_of(path, '"base_url"'), span_of(path, '"api_kye"')]
    assert '"https://api.example.com"' in got[0].message and "KeyError" in got[1].message
    assert "did you mean 'api_key'" in got[1].message and got[1].fixes[0].edits[0].new_text == "api_key"


def test_declared_credentials_and_oauth_providers_are_clean(plugin: Path):
    provider = _with_credentials(plugin, CREDENTIALS)
    path = tool(plugin, READS + '    key = self.runtime.credentials["api_kye"]\n')
    (f,) = findings(plugin, "DL218")
    assert f.span == span_of(path, '"api_kye"')
    tool(plugin, READS + '    key = self.runtime.credentials["api_key"]\n')
    assert findings(plugin, "DL218") == []
    path = tool(plugin, READS + '    token = self.runtime.credentials["access_token"]\n')
    (f,) = findings(plugin, "DL218")  # without OAuth, access_token is undeclared
    assert f.span == span_of(path, '"access_token"')
    # OAuth: the credentials are what _oauth_get_credentials returns, unknown statically
    provider.write_text(provider.read_text().replace("tools:\n", "oauth_schema:\n  client_schema: []\n  credentials_schema: []\ntools:\n", 1))
    tool(plugin, READS + '    token = self.runtime.credentials["access_token"]\n')
    assert findings(plugin, "DL218") == []


def test_provider_validation_reads_undeclared_credential(plugin: Path):
    _with_credentials(plugin, CREDENTIALS)
    source = [line for line in (plugin / "provider" / "llm.yaml").read_text().splitlines() if "source:" in line][-1].split(":", 1)[1].strip()
    path = write(plugin, source, """\
        from typing import Any

        from dify_plugin import ToolProvider


        class LLMProvider(ToolProvider):
            def _validate_credentials(self, credentials: dict[str, Any]) -> None:
                if not credentials.get("apikey"):
                    raise ValueError("missing")
        """)
    (f,) = findings(plugin, "DL218")
    assert f.path == path and f.span == span_of(path, '"apikey"') and "did you mean 'api_key'" in f.message


def test_endpoint_setting_that_the_group_does_not_declare(tmp_path: Path):
    root = tmp_path / "truth-endpoint"
    shutil.copytree(REPO / "tests" / "fixtures" / "real_plugins" / "webhook_endpoint", root)
    assert findings(root, "DL218") == []
    path = write(root, "endpoints/receive.py", """\
        from collections.abc import Mapping

        from werkzeug import Request, Response

        from dify_plugin import Endpoint


        class Receive(Endpoint):
            def _invoke(self, r: Request, values: Mapping, settings: Mapping) -> Response:
                if r.headers.get("X-Api-Key") != settings.get("apikey"):
                    return Response("forbidden", status=403)
                return Response(settings["app"]["app_id"], status=200)
        """)
    (f,) = findings(root, "DL218")
    assert f.path == path and f.span == span_of(path, '"apikey"') and "setting 'apikey'" in f.message
    assert "did you mean 'api_key'" in f.message and f.related[0].path == root / "group" / "webhook.yaml"


def test_model_credentials_read_and_mutated(tmp_path: Path):
    root = tmp_path / "truth-model"
    shutil.copytree(REPO / "tests" / "fixtures" / "real_plugins" / "model_provider", root)
    llm = root / "models" / "llm" / "llm.py"
    text = llm.read_text()
    llm.write_text(text.replace('        pass\n', '        if not credentials.get("api_key") or credentials.get("endpoint_url"):\n            raise ValueError("x")\n', 1))
    (f,) = findings(root, "DL218")
    assert f.path == llm and f.span == span_of(llm, '"endpoint_url"') and "always None" in f.message
    # a class that fills in keys itself (as OpenAI-compatible wrappers do) is not judged
    llm.write_text(llm.read_text().replace('        if not credentials.get', '        credentials["endpoint_url"] = "https://acme.example/v1"\n        if not credentials.get', 1))
    assert findings(root, "DL218") == []


def test_required_credential_nobody_reads_is_a_hint(plugin: Path):
    provider = _with_credentials(plugin, CREDENTIALS)
    tool(plugin, READS)
    (f,) = findings(plugin, "DL219")
    assert f.path == provider and f.span == span_of(provider, "api_key") and f.severity == Severity.HINT
    tool(plugin, READS + '    key = self.runtime.credentials.get("api_key")\n')
    assert findings(plugin, "DL219") == []
    # handed on whole: what reads it is not known
    tool(plugin, READS + "    client = make_client(self.runtime.credentials)\n")
    assert findings(plugin, "DL219") == []


def test_trigger_parameters_and_credentials(tmp_path: Path):
    root = tmp_path / "truth-trigger"
    shutil.copytree(REPO / "tests" / "fixtures" / "truth-trigger", root)
    assert findings(root, "DL218", "DL219") == []
    event = root / "events" / "issue_created.py"
    event.write_text(event.read_text().replace('wanted = parameters.get("title_contains")',
                                               'wanted = parameters.get("title_contains")\n        state = parameters.get("state_filter")'))
    provider = root / "provider" / "tracker.py"
    provider.write_text(provider.read_text().replace('team = parameters["team_id"]', 'team = parameters["team"]'))
    got = {(f.path, f.span) for f in findings(root, "DL218")}
    assert got == {(event, span_of(event, '"state_filter"')), (provider, span_of(provider, '"team"'))}


def test_trigger_session_lives_on_the_runtime(tmp_path: Path):
    root = tmp_path / "truth-trigger"
    shutil.copytree(REPO / "tests" / "fixtures" / "truth-trigger", root)
    event = root / "events" / "issue_created.py"
    event.write_text(event.read_text().replace(
        '        return Variables(variables={"title": title})',
        '        self.runtime.session.storage.put("last", title.encode())\n'
        '        self.session.anything()  # an Event keeps no self.session: not Dify\'s, not judged\n'
        '        return Variables(variables={"title": title})'))
    (f,) = findings(root, "DL201")
    assert f.path == event and f.span == span_of(event, "put") and "'put'" in f.message


def test_invocation_object_from_a_non_plugin_class_is_not_judged(plugin: Path):
    tool(plugin, READS, head=TOOL_HEAD + """\
from dify_plugin.invocations.storage import StorageInvocation


class Cache:
    def __init__(self, session):
        self.session = session

    def get(self, key):
        return StorageInvocation(self.session).get(key)
""")
    # Cache assigns its own self.session: whatever it holds, the call is not judged as Dify's session
    assert findings(plugin, "DL306") == []
    # the same call on the Tool's own session needs the storage permission llm-tool does not grant
    path = tool(plugin, READS + "    StorageInvocation(self.session).get(prompt)\n",
                head=TOOL_HEAD + "from dify_plugin.invocations.storage import StorageInvocation\n")
    (f,) = findings(plugin, "DL306")
    assert f.span.start.line == span_of(path, "StorageInvocation(self.session).get").start.line


def test_session_handed_to_other_code_makes_permission_use_unknown(plugin: Path):
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("      llm: true\n", "      llm: true\n    storage:\n      enabled: true\n      size: 1048576\n"))
    tool(plugin, READS + "    yield self.create_text_message(str(self.session.model.llm))\n"
         "    for chunk in self.session.model.llm.invoke(model_config=model, prompt_messages=[]):\n        pass\n")
    hints = findings(plugin, "DL308")
    storage = span_of(manifest, "storage")
    assert [h.span for h in hints] == [Span(Pos(storage.start.line + 1, 6), Pos(storage.start.line + 1, 13))]  # its `enabled`
    tool(plugin, READS + "    yield self.create_text_message(remember(self.session, prompt))\n")
    assert findings(plugin, "DL308") == []  # remember() may use the storage: not known here


def test_abstract_check_sees_through_generic_and_abc_bases(plugin: Path):
    path = tool(plugin, "def run(self, tool_parameters):\n    return []\n", head=TOOL_HEAD + "from abc import ABC\nfrom typing import Generic, TypeVar\n\nT = TypeVar('T')\n",
                cls="class LLMTool(Tool, ABC, Generic[T]):")
    (f,) = findings(plugin, "DL215")
    assert f.span == span_of(path, "LLMTool")


def test_miscalled_invocation_object_still_uses_its_permission(plugin: Path):
    # llm-tool grants model.enabled and model.llm; summary needs both even when called wrongly (DL202)
    tool(plugin, READS + "    yield self.create_text_message(prompt)\n")
    (unused,) = findings(plugin, "DL308")  # with no model call at all, the grant is unused
    assert "model.llm" in unused.message
    tool(plugin, READS + '    yield self.create_text_message(self.session.model.summary(text=prompt, instruction="x"))\n')
    assert len(findings(plugin, "DL202")) == 1
    assert findings(plugin, "DL308") == []


def test_get_current_session_is_difys_session(plugin: Path):
    path = tool(plugin, READS + "    session = get_current_session()\n    session.storage.set('k', b'v')\n    session.model.embedding\n",
                head=TOOL_HEAD + "from dify_plugin import get_current_session\n")
    (missing,) = [f for f in findings(plugin, "DL306")]
    assert missing.span.start.line == span_of(path, "session.storage.set").start.line
    (f,) = findings(plugin, "DL201")
    assert f.span == span_of(path, "embedding")


def test_cursor_follows_invocation_objects_and_ignores_requests_sessions():
    from dify_lsp import pyscan

    lines = ["from dify_plugin.invocations.app.chat import ChatAppInvocation", "", "class T(Tool):",
             "    def _invoke(self, tool_parameters):", "        chat = ChatAppInvocation(self.session)", "        chat.inv"]
    got = pyscan.chain_at(lines, Pos(5, len(lines[5])), None)
    assert got is not None and got.names == ("app", "chat") and got.partial == "inv"
    lines = ["def fetch(s: requests.Session):", "    s.po"]
    assert pyscan.chain_at(lines, Pos(1, len(lines[1])), None) is None
    lines = ["from requests import Session", "", "def fetch(s: Session):", "    s.po"]
    assert pyscan.chain_at(lines, Pos(3, len(lines[3])), None) is None
    lines = ["from dify_plugin.core.runtime import Session", "", "def fetch(s: Session):", "    s.mo"]
    assert pyscan.chain_at(lines, Pos(3, len(lines[3])), None).partial == "mo"


def test_dict_model_config_kept_in_a_variable(plugin: Path):
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("      llm: true\n", "      llm: true\n      text_embedding: true\n"))
    path = tool(plugin, READS + """\
    cfg = {"provider": "openai", "model": "text-embedding-3-small"}
    result = self.session.model.text_embedding.invoke(model_config=cfg, texts=[prompt])
    ok = {"provider": "openai", "model": "gpt-4o-mini", "mode": "chat"}
    answer = self.session.model.llm.invoke(model_config=ok, prompt_messages=[], stream=False)
""")
    (f,) = findings(plugin, "DL206")
    assert f.span == span_of(path, "cfg", 1) and "TextEmbeddingModelConfig" in f.message


# -- reads and prints that never run, fallbacks, guards, closures ---------------------------------------------------


def test_print_in_a_function_nothing_calls_is_not_reported(plugin: Path):
    helper = write(plugin, "tools/helpers.py", """\
        def debug_dump(text):
            print("never called", text)


        def shout(text):
            print(text)
        """)
    tool(plugin, READS + "    shout(prompt)\n", head=TOOL_HEAD + "from .helpers import debug_dump, shout\n")
    (f,) = findings(plugin, "DL209")
    assert f.path == helper and f.span == span_of(helper, "print", 1)


def test_print_under_a_flag_only_ever_false_is_not_reported(plugin: Path):
    path = tool(plugin, READS + """\
    if DEBUG:
        print("debug", prompt)
    if self.verbose and prompt:
        print("verbose", prompt)
    if LOUD:
        print("loud", prompt)
""", head=TOOL_HEAD + "\nDEBUG = False\nLOUD = False\n", cls="class LLMTool(Tool):\n    verbose = False\n")
    assert findings(plugin, "DL209") == []
    # a flag something sets true (here through a keyword argument) guards code that runs
    path.write_text(path.read_text().replace("LOUD = False\n", "LOUD = False\n\ndef configure(**kw):\n    return kw\n\nconfigure(LOUD=True)\n"))
    (f,) = findings(plugin, "DL209")
    assert f.span == span_of(path, "print", 2)


def test_customizable_schema_is_not_read_when_the_provider_has_only_predefined_models(tmp_path: Path):
    root = tmp_path / "truth-model"
    shutil.copytree(REPO / "tests" / "fixtures" / "real_plugins" / "model_provider", root)
    llm = root / "models" / "llm" / "llm.py"
    llm.write_text(llm.read_text() + """\

    def get_customizable_model_schema(self, model: str, credentials: dict):
        return {"context_size": int(credentials.get("context_size", 4096)), "mode": credentials["mode"]}
""")
    assert findings(root, "DL218") == []  # Dify takes the models from the predefined list: never called
    provider = next((root / "provider").glob("*.yaml"))
    provider.write_text(provider.read_text().replace("  - predefined-model\n", "  - predefined-model\n  - customizable-model\n"))
    got = sorted(findings(root, "DL218"), key=lambda f: f.span.start)
    assert [f.span for f in got] == [span_of(llm, '"context_size"', 1), span_of(llm, '"mode"', 1)]


def test_validate_credentials_of_a_provider_without_credentials_is_not_read(plugin: Path):
    source = [line for line in (plugin / "provider" / "llm.yaml").read_text().splitlines() if "source:" in line][-1].split(":", 1)[1].strip()
    path = write(plugin, source, """\
        from typing import Any

        from dify_plugin import ToolProvider


        class LLMProvider(ToolProvider):
            def _validate_credentials(self, credentials: dict[str, Any]) -> None:
                if not credentials.get("api_key"):
                    raise ValueError("missing")
        """)
    assert findings(plugin, "DL218") == []  # nothing to fill in, so nothing is ever validated
    _with_credentials(plugin, CREDENTIALS.replace("api_key", "token"))
    (f,) = findings(plugin, "DL218")
    assert f.path == path and f.span == span_of(path, '"api_key"')


def test_fallback_spelling_after_a_declared_key_is_not_reported(plugin: Path):
    path = tool(plugin, READS + """\
    voice = tool_parameters.get("prompt") or tool_parameters.get("Prompt")
    other = tool_parameters.get("Voice") or tool_parameters.get("VoiceID")
""")
    got = sorted(findings(plugin, "DL207"), key=lambda f: f.span.start)
    assert [f.span for f in got] == [span_of(path, '"Voice"'), span_of(path, '"VoiceID"')]  # no declared key first
    _with_credentials(plugin, CREDENTIALS)
    tool(plugin, READS + '    key = self.runtime.credentials.get("api_key") or self.runtime.credentials.get("API_KEY")\n')
    assert findings(plugin, "DL218", "DL207") == []
    path = tool(plugin, READS + '    key = self.runtime.credentials.get("apikey") or self.runtime.credentials.get("API_KEY")\n')
    assert [f.span for f in findings(plugin, "DL218")] == [span_of(path, '"apikey"'), span_of(path, '"API_KEY"')]


def test_subscript_behind_a_membership_test_cannot_raise(plugin: Path):
    path = tool(plugin, READS + """\
    if "language" in tool_parameters and tool_parameters["language"]:
        prompt += tool_parameters["language"]
    tone = tool_parameters["tone"] if "tone" in tool_parameters else "plain"
""")
    assert findings(plugin, "DL214") == []
    got = sorted(findings(plugin, "DL207"), key=lambda f: f.span.start)
    assert [f.span for f in got] == [span_of(path, '"language"', 1), span_of(path, '"language"', 2), span_of(path, '"tone"')]
    assert {f.severity for f in got} == {Severity.HINT} and all("KeyError" in f.message and "cannot" in f.message for f in got)
    # without the test, the same read raises
    path = tool(plugin, READS + '    if tool_parameters["language"]:\n        pass\n')
    (f,) = findings(plugin, "DL214")
    assert f.span == span_of(path, '"language"') and f.severity == Severity.ERROR
    _with_credentials(plugin, CREDENTIALS)
    path = tool(plugin, READS + '    region = self.runtime.credentials["region"] if "region" in self.runtime.credentials else "us"\n')
    (f,) = findings(plugin, "DL218")
    assert f.span == span_of(path, '"region"') and f.severity == Severity.HINT


def test_reads_in_a_closure_of_invoke_count(plugin: Path):
    yaml_path = plugin / "tools" / "llm.yaml"
    path = tool(plugin, """\
def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
    async def ask():
        return tool_parameters["prompt"], tool_parameters.get("model")

    def later():
        return tool_parameters.get("tone")

    yield from ()
""")
    assert findings(plugin, "DL208") == []  # prompt is read, in the closure
    (f,) = findings(plugin, "DL207")
    assert f.span == span_of(path, '"tone"')
    tool(plugin, """\
def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
    def later(tool_parameters):
        return tool_parameters["prompt"]

    yield from ()
""")
    got = findings(plugin, "DL208")  # that closure reads its own parameter, not the tool's
    assert span_of(yaml_path, "prompt") in [f.span for f in got] and all(f.path == yaml_path for f in got)


def test_plugin_class_imported_inside_a_function_is_not_in_the_module(plugin: Path):
    write(plugin, "tools/other.py", """\
        from collections.abc import Generator
        from typing import Any

        from dify_plugin import Tool
        from dify_plugin.entities.tool import ToolInvokeMessage


        class OtherTool(Tool):
            def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
                yield self.create_text_message("other")
        """)
    tool(plugin, READS + "    from .other import OtherTool\n    yield from OtherTool._invoke(self, tool_parameters)\n")
    assert findings(plugin, "DL212") == []  # bound only while _invoke runs, after the loader looked
    path = tool(plugin, READS, head=TOOL_HEAD + "from .other import OtherTool\n")
    (f,) = findings(plugin, "DL212")
    assert f.path == path and "OtherTool" in f.message


def test_model_config_built_with_more_arguments_is_followed_into_attributes_and_helpers(plugin: Path):
    yaml_path = plugin / "tools" / "llm.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("scope: llm", "scope: text-embedding"))
    head = TOOL_HEAD + "from dify_plugin.entities.model.llm import LLMModelConfig\n"
    path = tool(plugin, """\
def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
    cfg = LLMModelConfig(**tool_parameters["model"], completion_params={})
    self.cfg = LLMModelConfig(**tool_parameters["model"], completion_params={})
    yield from self.ask(cfg, tool_parameters["prompt"])
    yield from self.again()
    self.session.model.llm.invoke(model_config=cfg, prompt_messages=[], stream=False)

def ask(self, config, prompt):
    self.session.model.llm.invoke(model_config=config, prompt_messages=[], stream=False)
    yield self.create_text_message(prompt)

def again(self):
    self.session.model.llm.invoke(model_config=self.cfg, prompt_messages=[], stream=False)
    yield self.create_text_message("again")
""", head=head)
    got = sorted(findings(plugin, "DL305"), key=lambda f: f.span.start)
    def first_word(needle: str) -> Span:
        s = span_of(path, needle)
        return Span(s.start, Pos(s.start.line, s.start.col + len(needle.split(",")[0])))

    assert [f.span for f in got] == [first_word("cfg, prompt_messages"), first_word("config, prompt_messages"), first_word("self.cfg, prompt_messages")]
    assert all("text-embedding" in f.message for f in got)
    yaml_path.write_text(yaml_path.read_text().replace("scope: text-embedding", "scope: llm"))
    assert findings(plugin, "DL305") == []


def test_tool_invoke_without_provider_type_names_the_fix(plugin: Path):
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("      llm: true\n", "      llm: true\n    tool:\n      enabled: true\n"))
    path = tool(plugin, READS + '    out = self.session.tool.invoke(provider="time", tool_name="current_time", parameters={})\n')
    (f,) = findings(plugin, "DL204")
    assert f.span == span_of(path, "invoke", 1)
    assert "session.tool.invoke_builtin_tool(provider, tool_name, parameters)" in f.message and "provider_type=ToolProviderType.BUILT_IN" in f.message
    tool(plugin, READS + '    out = self.session.tool.invoke_builtin_tool(provider="time", tool_name="current_time", parameters={})\n')
    assert findings(plugin, "DL204") == []


def test_a_source_serving_several_tools_names_every_tool_yaml(plugin: Path):
    second = plugin / "tools" / "llm2.yaml"
    second.write_text((plugin / "tools" / "llm.yaml").read_text().replace("name: llm\n", "name: llm2\n", 1))
    provider = plugin / "provider" / "llm.yaml"
    provider.write_text(provider.read_text().replace("  - tools/llm.yaml\n", "  - tools/llm.yaml\n  - tools/llm2.yaml\n"))
    path = tool(plugin, READS + '    language = tool_parameters.get("language")\n')
    (f,) = findings(plugin, "DL207")
    assert f.span == span_of(path, '"language"')
    assert "tools/llm.yaml" in f.message and "tools/llm2.yaml" in f.message and "the tools this file serves" in f.message
    assert {r.path for r in f.related} == {plugin / "tools" / "llm.yaml", second}
