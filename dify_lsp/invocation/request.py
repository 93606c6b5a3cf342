"""What a run is asked to do and what it gave: :class:`RunRequest` and :class:`RunResult` (see
:mod:`dify_lsp.invocation.runner`, which runs them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dify_lsp.invocation.parameters import InvocationError, InvocationFile, MissingCredentialsError

KINDS = ("tool", "endpoint", "strategy", "model", "datasource", "trigger")
STATUSES = ("success", "error", "timeout", "cancelled", "exited")

UsageError = InvocationError
MissingValuesError = MissingCredentialsError
ProgressFn = Callable[[str, str], None]


@dataclass
class RunRequest:
    plugin_root: Path
    kind: str | None = None
    target: str | None = None  # tool | "METHOD /path" | strategy | "type/model" | datasource | trigger action
    provider: str | None = None
    path: Path | None = None  # a file of the plugin: picks the kind and target when they are not given
    action: str | None = None  # an access action other than the kind's default
    parameters: dict[str, Any] = field(default_factory=dict)  # parameters, or an endpoint's settings
    credentials: dict[str, Any] = field(default_factory=dict)
    credential_type: str = "api-key"  # or oauth2 (``oauth`` accepted)
    validate_credentials: bool = False  # tools: the provider's _validate_credentials first, as Dify does on save
    headers: list[tuple[str, str]] = field(default_factory=list)  # endpoint / webhook request
    body: bytes = b""
    prompt: str | None = None  # model runs
    request_line: str | None = None  # trigger dispatch: "METHOD /path" of the webhook request
    subscription: dict[str, Any] = field(default_factory=dict)  # trigger: the subscription's properties
    agent_tools: list[str] = field(default_factory=list)  # strategy: "provider/tool" entries
    tool_plugins: list[Path] = field(default_factory=list)  # plugins whose tools answer session.tool.invoke
    backend: str | None = None  # else the invocation file, else settings, else mock
    settings: dict[str, Any] = field(default_factory=dict)  # the "run" settings section
    timeout: float | None = None
    python: str | None = None  # an explicit interpreter (--python): used as is, never replaced
    python_setting: str | None = None  # the `python` setting (after --python in precedence)
    rebuild_environment: bool = False
    use_saved: bool = True  # read <plugin>/.dify/invocations/<name>.yaml
    invocation: InvocationFile | None = None  # an explicit params/invocation file (wins over the saved one)
    out_dir: Path | None = None  # save every blob a tool sends here
    user_id: str = "dify-lsp"
    debug: tuple[str, int] | None = None  # (host, port): run the plugin under debugpy, listening there

    @property
    def tool(self) -> str | None:
        return self.target if self.kind in (None, "tool") else None


@dataclass
class RunResult:
    status: str  # success | error | timeout | cancelled | exited
    kind: str = "tool"
    action: str | None = None
    target: str | None = None
    provider: str | None = None
    backend: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)  # a tool's / strategy's messages
    chunks: list[Any] = field(default_factory=list)  # what the plugin streamed, as it wrote it (other kinds)
    summary: Any = None  # for people: an endpoint's HTTP answer, a model's text, a crawl's pages...
    transcript: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None  # {"type", "message", "traceback"}
    duration_ms: float = 0.0
    startup_ms: float | None = None
    python: str | None = None
    python_source: str | None = None
    environment_ms: float | None = None  # finding the interpreter, a first build of the run environment included
    parameters: dict[str, Any] = field(default_factory=dict)  # the values sent, secrets masked
    credential_type: str | None = None
    validation: dict[str, Any] | None = None
    invocation_file: str | None = None  # where this run's inputs are saved
    debug: dict[str, Any] | None = None  # {"host", "port"} of a debug run

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def tool(self) -> str | None:
        return self.target

    @property
    def text(self) -> str:
        if self.kind == "tool":
            return "".join(m.get("text") or "" for m in self.messages if m.get("type") == "text")
        summary = self.summary
        return summary["text"] if isinstance(summary, dict) and isinstance(summary.get("text"), str) else ""

    def panel_messages(self) -> list[dict[str, Any]]:
        """The result as message entries, for a run panel that lists messages."""
        if self.kind in ("tool", "strategy"):
            return self.messages if self.kind == "tool" else [c for c in self.chunks if isinstance(c, dict)]
        if self.summary is None:
            return []
        label = {"endpoint": "http_response", "model": "model_result", "datasource": "datasource_result",
                 "trigger": "trigger_result"}.get(self.kind, "result")
        return [{"type": label, **self.summary} if isinstance(self.summary, dict) else {"type": label, "value": self.summary}]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "kind": self.kind, "action": self.action, "target": self.target,
            "tool": self.target, "provider": self.provider, "backend": self.backend,
            "messages": self.panel_messages(), "text": self.text, "summary": self.summary, "chunks": self.chunks,
            "transcript": self.transcript, "warnings": self.warnings, "logs": self.logs, "error": self.error,
            "duration_ms": self.duration_ms, "startup_ms": self.startup_ms, "python": self.python,
            "python_source": self.python_source, "environment_ms": self.environment_ms,
            "parameters": self.parameters, "credential_type": self.credential_type, "validation": self.validation,
            "invocation_file": self.invocation_file, "debug": self.debug,
        }


