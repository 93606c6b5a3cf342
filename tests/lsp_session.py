"""A thin driver over pytest-lsp's client for end-to-end tests.

It hides push versus pull diagnostics (the VS Code profile gets pushed
diagnostics, the Neovim profile pulls them), and converts code-point columns
to the negotiated encoding so tests can state ranges once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

LANGUAGE_IDS = {".py": "python", ".yaml": "yaml", ".yml": "yaml"}


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


class LspSession:
    def __init__(self, client: LanguageClient, profile: str, encoding: str):
        self.client = client
        self.profile = profile
        self.encoding = encoding
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}

    @property
    def pull(self) -> bool:
        caps = self.client.capabilities
        return bool(caps and caps.text_document and caps.text_document.diagnostic is not None)

    # -- positions -----------------------------------------------------------
    def col(self, path: Path, line: int, codepoint_col: int) -> int:
        text = self.texts.get(path.as_uri()) or path.read_text(encoding="utf-8")
        line_text = text.split("\n")[line]
        return units(line_text[:codepoint_col], self.encoding)

    def position(self, path: Path, line: int, codepoint_col: int) -> types.Position:
        return types.Position(line=line, character=self.col(path, line, codepoint_col))

    def find(self, path: Path, needle: str, nth: int = 0, offset: int = 0) -> types.Position:
        """Client position of the nth occurrence of needle (plus offset code points)."""
        text = self.texts.get(path.as_uri()) or path.read_text(encoding="utf-8")
        idx = -1
        for _ in range(nth + 1):
            idx = text.index(needle, idx + 1)
        idx += offset
        line = text.count("\n", 0, idx)
        col = idx - (text.rfind("\n", 0, idx) + 1)
        return self.position(path, line, col)

    # -- documents -----------------------------------------------------------
    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8") if text is None else text
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.diagnostics.pop(uri, None)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=LANGUAGE_IDS.get(path.suffix, "plaintext"), version=1, text=text)
            )
        )
        return uri

    def replace(self, path: Path, start: types.Position, end: types.Position, new_text: str) -> None:
        """An incremental edit, positions in client units."""
        uri = path.as_uri()
        self.versions[uri] += 1
        text = self.texts[uri]
        lines = text.split("\n")

        def offset(p: types.Position) -> int:
            line_text = lines[p.line]
            # client units -> code points
            cp = 0
            while cp < len(line_text) and units(line_text[:cp], self.encoding) < p.character:
                cp += 1
            return sum(len(l) + 1 for l in lines[: p.line]) + cp

        a, b = offset(start), offset(end)
        self.texts[uri] = text[:a] + new_text + text[b:]
        self.client.diagnostics.pop(uri, None)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end), text=new_text)],
            )
        )

    def set_text(self, path: Path, text: str) -> None:
        uri = path.as_uri()
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.diagnostics.pop(uri, None)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def close(self, path: Path) -> None:
        uri = path.as_uri()
        self.client.diagnostics.pop(uri, None)
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))

    # -- requests ------------------------------------------------------------
    async def diagnostics(self, path: Path, timeout: float = 10.0) -> list[types.Diagnostic]:
        uri = path.as_uri()
        if self.pull:
            report = await asyncio.wait_for(
                self.client.text_document_diagnostic_async(
                    types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
                ),
                timeout,
            )
            return list(report.items)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while uri not in self.client.diagnostics:
            if loop.time() > deadline:
                raise TimeoutError(f"no diagnostics published for {uri}")
            await asyncio.sleep(0.02)
        return list(self.client.diagnostics[uri])

    async def wait_cleared(self, path: Path, timeout: float = 10.0) -> list[types.Diagnostic]:
        """After close: the pushed (empty) diagnostics, or [] for pull clients."""
        if self.pull:
            return []
        return await self.diagnostics(path, timeout)

    async def completion(self, path: Path, position: types.Position) -> list[types.CompletionItem]:
        result = await self.client.text_document_completion_async(
            types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=position)
        )
        if result is None:
            return []
        return list(result.items if isinstance(result, types.CompletionList) else result)

    async def hover(self, path: Path, position: types.Position) -> types.Hover | None:
        return await self.client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=position)
        )

    async def signature_help(self, path: Path, position: types.Position) -> types.SignatureHelp | None:
        return await self.client.text_document_signature_help_async(
            types.SignatureHelpParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=position)
        )

    async def definition(self, path: Path, position: types.Position) -> Any:
        return await self.client.text_document_definition_async(
            types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=position)
        )

    async def code_actions(self, path: Path, rng: types.Range, diagnostics: list[types.Diagnostic] | None = None) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                range=rng,
                context=types.CodeActionContext(diagnostics=diagnostics or []),
            )
        )
        return [a for a in (result or []) if isinstance(a, types.CodeAction)]

    async def execute(self, command: str, *arguments: Any, timeout: float = 120.0) -> Any:
        return await asyncio.wait_for(
            self.client.workspace_execute_command_async(types.ExecuteCommandParams(command=command, arguments=list(arguments))),
            timeout,
        )


def rng(d: types.Diagnostic | types.Range) -> tuple[int, int, int, int]:
    r = d.range if hasattr(d, "range") else d
    return (r.start.line, r.start.character, r.end.line, r.end.character)
