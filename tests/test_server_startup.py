"""What the server imports before it answers `initialize`: not the rules, the Python scanner, the other
feature modules or pydantic (the settings model); each waits for the first check or request needing it."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from dify_lsp.features import commands, registry

# Drives the real server's protocol in a fresh interpreter, after building the command line's parser as
# `dify-lsp` does: feeds it one `initialize` request (with settings, as VS Code sends them) and prints the
# answer and the modules loaded at that moment.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from dify_lsp import cli
    from dify_lsp.server import create_server

    cli.build_parser().parse_args([])  # what `dify-lsp` (serve) does before it starts the server
    server = create_server()
    written = []

    class Writer:
        def write(self, data):
            written.append(data)

        def close(self):
            pass

    server.protocol.set_writer(Writer())
    request = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": None, "capabilities": {}, "locale": "ja",
        "initializationOptions": {"dify": {"python": "/usr/bin/python3", "diagnostics": {"python": False}}}}}

    async def main():
        server.protocol.handle_message(server.protocol.structure_message(request))
        for _ in range(500):
            if written:
                return
            await asyncio.sleep(0.01)

    asyncio.run(main())
    answer = written[0].decode().split("\\r\\n\\r\\n", 1)[1] if written else "null"
    print(json.dumps({"answer": json.loads(answer), "modules": sorted(sys.modules)}))
    """
)


def _initialize_in_a_fresh_interpreter() -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_initialize_answers_before_the_rules_the_scanner_and_pydantic_are_imported():
    result = _initialize_in_a_fresh_interpreter()
    capabilities = result["answer"]["result"]["capabilities"]
    # the answer is complete: every command and provider is announced
    assert set(capabilities["executeCommandProvider"]["commands"]) >= {"dify.runInvocation", "dify.listTools", "dify.newTool"}
    assert capabilities["completionProvider"] and capabilities["hoverProvider"] and capabilities["codeActionProvider"]
    loaded = set(result["modules"])
    assert "lsprotocol.types" in loaded and "dify_lsp.server" in loaded
    deferred = {
        "dify_lsp.rules",
        "dify_lsp.rules.registry",
        "dify_lsp.checker",
        "dify_lsp.config",
        "dify_lsp.pyscan",
        "dify_lsp.settings",
        "dify_lsp.features.registry",
        "dify_lsp.features.code_actions",
        "dify_lsp.features.yaml_completion",
        "dify_lsp.features.python_jedi",
        "pydantic",
    }
    assert sorted(deferred & loaded) == []
    assert not any(m.startswith(("dify_lsp.rules.", "dify_lsp.analysis", "jedi")) for m in loaded)


def test_every_feature_that_adds_commands_is_imported_at_start():
    # the initialize answer lists the commands of exactly these modules
    with_commands = [f.__name__ for f in registry.FEATURES if hasattr(f, "register")]
    assert sorted(with_commands) == sorted(f.__name__ for f in commands.COMMAND_FEATURES)
    assert all(f in registry.FEATURES for f in commands.COMMAND_FEATURES)


def test_settings_sent_in_parts_are_those_of_one_merged_object():
    """The server keeps what the client sent and validates it when settings are first read: the same
    settings as merging each part into the last validated ones (an invalid value keeps its default)."""
    from dify_lsp.server import DifyLanguageServer
    from dify_lsp.settings import ServerSettings

    parts = [
        {"python": "/a", "debounceMs": 50, "run": {"timeout": 5, "openai": {"models": {"llm": "m"}}}},
        {"debounceMs": "soon", "run": {"backend": "openai"}, "diagnostics": {"files": False}},
        {"python": None, "run": 3, "select": ["DL2"]},
        {"run": {"timeout": 0}, "locale": "ja"},
    ]
    server = DifyLanguageServer()
    expected = ServerSettings()
    for part in parts:
        server.apply_settings(part)
        expected = expected.merged(part)
        assert server.settings == expected
    server.apply_settings(None)
    assert server.settings == expected
