"""Every setting the server takes, typed, with its default and what it does.

The editor sends one settings object (``initializationOptions``, the ``dify`` section of
``workspace/configuration`` and ``workspace/didChangeConfiguration``); its keys are camelCase.
:meth:`ServerSettings.from_client` reads it field by field: a value of the wrong type or out of
range is dropped (logged) and that setting keeps its default, so one typo never loses the others.

This model is the one list of settings: the README's settings table, ``vscode-client/package.json``'s
``contributes.configuration`` and the Neovim config's defaults are generated from it
(``python scripts/update_settings_docs.py``), and tests check they are.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from dify_lsp.dicts import deep_merge

log = logging.getLogger(__name__)

DEFAULT_OPENAI_MODELS = {
    "llm": "gpt-4o-mini",
    "text-embedding": "text-embedding-3-small",
    "rerank": "rerank",
    "tts": "tts-1",
    "speech2text": "whisper-1",
    "moderation": "omni-moderation-latest",
}


def setting(default: Any = None, description: str = "", *, unset: str | None = None, **extra: Any) -> Any:
    """A field: its default, what it does (one sentence for the docs) and, for a setting whose default is
    "not set", what happens then (``unset``).  ``extra`` carries editor-only details (``vscode``)."""
    schema_extra = {key: value for key, value in {"unset": unset, **extra}.items() if value is not None}
    constraints = {k: schema_extra.pop(k) for k in ("ge", "le") if k in schema_extra}
    if callable(default):
        return Field(default_factory=default, description=description, json_schema_extra=schema_extra or None, **constraints)
    return Field(default, description=description, json_schema_extra=schema_extra or None, **constraints)


class _Settings(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    @classmethod
    def from_client(cls, raw: Any, where: str = "") -> Any:
        """The settings in ``raw`` (a dict from the client); what is missing or invalid keeps its default."""
        if not isinstance(raw, dict):
            return cls()
        if cls._keyed_by_alias(raw):
            try:
                # The usual case, every value valid: one pass of the model's own validator (built with the
                # class) instead of one validator per field.
                return cls.model_validate(raw)
            except ValidationError:
                pass
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key not in raw:
                continue
            value = raw[key]
            nested = field.annotation if isinstance(field.annotation, type) and issubclass(field.annotation, _Settings) else None
            if nested is not None:
                values[name] = nested.from_client(value, f"{where}{key}.")
                continue
            try:
                values[name] = _adapter(cls, name).validate_python(value)
            except ValidationError as exc:
                log.warning("setting %s%s = %r ignored: %s", where, key, value, exc.errors()[0].get("msg", exc))
        return cls(**values)

    @classmethod
    def _keyed_by_alias(cls, raw: dict[str, Any]) -> bool:
        """No key is a field's Python name where it differs from its camelCase key (``debounce_ms``): the
        model would accept it (populate_by_name), the client's settings object does not have it."""
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if name != key and name in raw:
                return False
            nested = field.annotation if isinstance(field.annotation, type) and issubclass(field.annotation, _Settings) else None
            if nested is not None and isinstance(raw.get(key), dict) and not nested._keyed_by_alias(raw[key]):
                return False
        return True

    def wire(self) -> dict[str, Any]:
        """As the client spells it (camelCase keys, every setting present)."""
        return self.model_dump(by_alias=True, mode="json")


@lru_cache(maxsize=None)  # one per settings field: a pure function of the settings models
def _adapter(model: type[_Settings], name: str) -> TypeAdapter[Any]:
    field = model.model_fields[name]
    if not field.metadata:
        return TypeAdapter(field.annotation)
    return TypeAdapter(Annotated[(field.annotation, *field.metadata)])  # type: ignore[valid-type]


class OpenAISettings(_Settings):
    base_url: str = setting("https://api.openai.com/v1", "Endpoint of the `openai` backend (any OpenAI-compatible API).")
    api_key_env: str = setting(
        "OPENAI_API_KEY",
        "Name of the environment variable that holds the `openai` backend's API key (the key itself is never a setting).",
    )
    models: dict[str, str] = setting(
        lambda: dict(DEFAULT_OPENAI_MODELS),
        "Model name per model type for the `openai` backend; the types given replace those defaults.",
    )


class RunSettings(_Settings):
    backend: Literal["mock", "openai"] = setting(
        "mock",
        "What answers the plugin's model calls during a run: `mock` (offline, deterministic) or `openai` (any OpenAI-compatible endpoint).",
        vscode={"enumDescriptions": ["Answer model calls offline with deterministic mock answers.", "Send model calls to an OpenAI-compatible API."]},
    )
    timeout: float = setting(60, "Seconds before a run is stopped and its process tree killed.", ge=1)
    validate_credentials: bool = setting(
        False, "Run the provider's `_validate_credentials` before each run, as Dify does when credentials are saved."
    )
    credential_type: Literal["api-key", "oauth"] = setting(
        "api-key", "Credential type the plugin sees during a run: `api-key` or `oauth` (sent as `oauth2`; required api-key credentials are not enforced then)."
    )
    tool_plugins: list[str] = setting(
        list,
        "Plugin folders whose tools answer an agent strategy's `session.tool.invoke` during a run (the plugin itself always does).",
        vscode={"note": "`~` and `${workspaceFolder}` are expanded."},
    )
    openai: OpenAISettings = setting(OpenAISettings, "Settings of the `openai` backend.")


class DiagnosticsSettings(_Settings):
    """One switch per rule family the editor can turn off (the marketplace family has its own setting)."""

    files: bool = setting(True, "Report YAML syntax errors, missing files and broken references (DL0xx).")
    schema_: bool = Field(True, alias="schema", description="Check the YAML schema of the manifest, provider, tool, model and other plugin files (DL1xx, DL4xx).")
    python: bool = setting(True, "Check the plugin's Python code: session.* API use, tool parameters, plugin classes, credentials (DL2xx).")
    permissions: bool = setting(True, "Check model-selector scopes and the manifest's permissions (DL3xx).")

    def disabled(self) -> set[str]:
        """The families turned off."""
        return {field.alias or name for name, field in type(self).model_fields.items() if getattr(self, name) is False}


class ServerSettings(_Settings):
    python: str | None = setting(
        None,
        "Python interpreter for Run invocation (used as is) and for jedi's completions (for jedi the plugin's `.venv` comes first).",
        unset="for runs `$DIFY_LSP_PYTHON`, the plugin's `.venv`, else the run environment built with uv",
        vscode={"scope": "machine-overridable"},
    )
    run: RunSettings = setting(RunSettings, "How Run invocation runs the plugin.")
    diagnostics: DiagnosticsSettings = setting(DiagnosticsSettings, "Rule families to report.")
    select: list[str] = setting(
        list,
        "Rule selectors (a code such as `DL209`, a code prefix, a family or `ALL`) to check instead of the plugin's `[tool.dify-lsp] select`, as `dify-lsp check --select` takes them.",
    )
    extend_select: list[str] = setting(list, "Rule selectors to check in addition, as `dify-lsp check --extend-select` takes them.")
    ignore: list[str] = setting(list, "Rule selectors not to report, as `dify-lsp check --ignore` takes them.")
    marketplace: bool | None = setting(
        None,
        "Also report what Dify Marketplace review blocks or warns about (the marketplace family, DL6xx), as `dify-lsp check --marketplace`.",
        unset="the plugin's `marketplace = true` in `[tool.dify-lsp]` turns it on, else off",
        vscode={"default": False},
    )
    cache: bool = setting(
        True,
        "Publish a just-opened plugin's diagnostics from the result cache `dify-lsp check` keeps, when none of the files they came from changed (the full check follows).",
    )
    debounce_ms: int = setting(
        200, "Milliseconds diagnostics wait after an edit (the first check of an opened plugin does not wait).", ge=0, le=5000
    )
    # Any spelling dify_lsp.i18n.choose understands (zh-CN, zh_Hans, ja, ...); unknown ones mean English.
    locale: str | None = setting(
        None,
        "Language of the server's messages, hovers and completion docs: `en_US`, `zh_Hans` or `ja_JP`.",
        unset="the editor's `locale`, else the environment",
        vscode={"default": "", "enum": ["", "en_US", "zh_Hans", "ja_JP"], "enumDescriptions": ["The editor's display language.", "English", "Simplified Chinese", "Japanese"]},
    )

    def merged(self, raw: Any) -> "ServerSettings":
        """These settings with the keys in ``raw`` (a partial settings object from the client) changed."""
        if not isinstance(raw, dict):
            return self
        return ServerSettings.from_client(deep_merge(self.wire(), raw))

    def rule_key(self) -> dict[str, Any]:
        """What decides which findings a check reports (part of the result cache's key)."""
        return {
            "select": self.select,
            "extendSelect": self.extend_select,
            "ignore": self.ignore,
            "diagnostics": sorted(self.diagnostics.disabled()),
            "marketplace": self.marketplace,
        }


def as_settings(value: "ServerSettings | dict[str, Any] | None") -> ServerSettings:
    """Settings given either typed or as the client's dict (the command line and tests build dicts)."""
    if isinstance(value, ServerSettings):
        return value
    return ServerSettings.from_client(value or {})
