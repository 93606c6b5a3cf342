"""The real server over stdio with documents as VS Code sends them on Windows: drive-letter URIs
(``file:///c%3A/...``) and CRLF line ends.

On this Linux machine ``C:`` is no drive, so the plugin lives only in the editor: every file is opened, and
the server works from the editor's text (as it does for unsaved files). On the Windows CI runner the same
URIs name a real drive. The second test uses real files on disk, in folders whose names VS Code
percent-encodes, with CRLF files; it runs the same on every OS.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from urllib.parse import quote

from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import EXAMPLES, PROFILES
from lsp_session import units

PLUGIN_FILES = ("manifest.yaml", "provider/llm.yaml", "provider/llm.py", "tools/llm.yaml", "tools/llm.py", "main.py")
MISSING = "tools/缺失😀.yaml"


def vscode_uri(fs_path: str) -> str:
    """A path as VS Code's `Uri.file(p).toString()` writes it: `/` separators, a leading `/` before a
    drive letter, the drive letter lower-cased, and every character but letters, digits and `-._~/`
    percent-encoded (the drive's colon too)."""
    p = fs_path.replace("\\", "/")
    if len(p) >= 2 and p[1] == ":":
        p = "/" + p[0].lower() + p[1:]
    return "file://" + quote(p, safe="/")


def plugin_texts(crlf: bool) -> dict[str, str]:
    texts = {rel: (EXAMPLES / "llm-tool" / rel).read_text(encoding="utf-8") for rel in PLUGIN_FILES}
    # a second, missing tool file, named with CJK and an emoji (UTF-16 counts the emoji twice)
    texts["provider/llm.yaml"] = texts["provider/llm.yaml"].replace("  - tools/llm.yaml\n", f"  - tools/llm.yaml\n  - {MISSING}\n")
    if crlf:
        texts = {rel: text.replace("\n", "\r\n") for rel, text in texts.items()}
    return texts


def pull_client(client: LanguageClient) -> bool:
    caps = client.capabilities
    return bool(caps and caps.text_document and caps.text_document.diagnostic is not None)


def open_plugin(client: LanguageClient, base_uri: str, texts: dict[str, str]) -> dict[str, str]:
    uris = {}
    for rel, text in texts.items():
        uri = f"{base_uri}/{rel}"
        uris[rel] = uri
        language = "python" if rel.endswith(".py") else "yaml"
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text))
        )
    return uris


async def settled_diagnostics(client: LanguageClient, uris: list[str], timeout: float = 30.0) -> dict[str, list[types.Diagnostic]]:
    """Each document's diagnostics once the server has checked the whole plugin."""
    if pull_client(client):
        await asyncio.sleep(0.5)
        out = {}
        for uri in uris:
            report = await asyncio.wait_for(
                client.text_document_diagnostic_async(types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))),
                timeout,
            )
            out[uri] = list(report.items)
        return out
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last, quiet_since = None, loop.time()
    while loop.time() < deadline:
        now = {uri: client.diagnostics.get(uri) for uri in uris}
        if now != last:
            last, quiet_since = now, loop.time()
        elif all(v is not None for v in now.values()) and loop.time() - quiet_since > 1.0:
            return {uri: list(v) for uri, v in now.items()}
        await asyncio.sleep(0.05)
    raise TimeoutError(f"diagnostics did not settle for {uris}: {last}")


def ranges(diagnostics: dict[str, list[types.Diagnostic]], base_uri: str) -> set[tuple]:
    """(file relative to the plugin, code, range) of every diagnostic."""
    return {
        (uri[len(base_uri) + 1 :], d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
        for uri, items in diagnostics.items()
        for d in items
    }


def expected_missing_range(text: str, encoding: str) -> tuple[int, int, int, int]:
    lines = text.replace("\r\n", "\n").split("\n")
    line = next(i for i, line in enumerate(lines) if MISSING in line)
    start = lines[line].index(MISSING)
    return line, units(lines[line][:start], encoding), line, units(lines[line][: start + len(MISSING)], encoding)


async def test_drive_letter_uris_and_crlf_give_the_same_exact_ranges(lsp: LanguageClient, request):
    encoding = PROFILES[request.node.callspec.params["lsp"]]
    base_crlf = "file:///c%3A/Users/dev/My%20Plugins/crlf/llm-tool"
    base_lf = "file:///c%3A/Users/dev/My%20Plugins/lf/llm-tool"
    crlf = open_plugin(lsp, base_crlf, plugin_texts(crlf=True))
    lf = open_plugin(lsp, base_lf, plugin_texts(crlf=False))
    got_crlf = await settled_diagnostics(lsp, list(crlf.values()))
    got_lf = await settled_diagnostics(lsp, list(lf.values()))

    # Published under the URIs exactly as sent (push clients key diagnostics by the URI string).
    assert set(got_crlf) == set(crlf.values())
    provider = got_crlf[crlf["provider/llm.yaml"]]
    missing = [d for d in provider if d.code == "DL002" and "缺失" in d.message]
    assert len(missing) == 1, [(d.code, d.message) for d in provider]
    r = missing[0].range
    assert (r.start.line, r.start.character, r.end.line, r.end.character) == expected_missing_range(
        plugin_texts(crlf=True)["provider/llm.yaml"], encoding
    )
    # The plugin's deliberate mistake (tools/llm.py reads a parameter the YAML does not declare) is found
    # through the drive-letter URIs too: the tool YAML and its Python file were matched up.
    assert any(d.code == "DL207" for d in got_crlf[crlf["tools/llm.py"]])
    # CRLF changes no range: line ends are not part of any line's text.
    assert ranges(got_crlf, base_crlf) == ranges(got_lf, base_lf)
    assert all(d.range.end.character <= units(line, encoding)
               for uri, items in got_crlf.items() for d in items
               for line in [plugin_texts(crlf=False)[uri[len(base_crlf) + 1 :]].split("\n")[d.range.end.line]])  # fmt: skip


async def test_crlf_files_on_disk_under_encoded_folder_names(lsp: LanguageClient, request, tmp_path: Path):
    encoding = PROFILES[request.node.callspec.params["lsp"]]
    results = {}
    for name, crlf in (("crlf", True), ("lf", False)):
        root = tmp_path / f"Plugins #1 [{name}] 插件" / "llm-tool"
        shutil.copytree(EXAMPLES / "llm-tool", root, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".dify"))
        for rel, text in plugin_texts(crlf).items():
            (root / rel).write_bytes(text.encode("utf-8"))  # bytes: no newline translation on Windows
        base = vscode_uri(str(root))
        assert "%5B" in base and "%23" in base  # the brackets and the '#' are percent-encoded as VS Code does
        uris = open_plugin(lsp, base, {rel: (root / rel).read_bytes().decode("utf-8") for rel in ("provider/llm.yaml", "tools/llm.py")})
        got = await settled_diagnostics(lsp, list(uris.values()))
        assert set(got) == set(uris.values())
        results[name] = ranges(got, base)
        missing = [d for d in got[uris["provider/llm.yaml"]] if d.code == "DL002" and "缺失" in d.message]
        assert len(missing) == 1
        r = missing[0].range
        assert (r.start.line, r.start.character, r.end.line, r.end.character) == expected_missing_range(
            plugin_texts(crlf)["provider/llm.yaml"], encoding
        )
    assert results["crlf"] == results["lf"]
    assert any(code == "DL207" for _, code, *_ in results["crlf"])
