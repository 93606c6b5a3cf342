"""The SDK's plugin base classes (dify-plugin 0.10.2), as data.

For each class a plugin may subclass: where it lives, which plugin bases it is
a subclass of (the SDK's class loader finds plugin classes with ``issubclass``
on these), the abstract methods a concrete subclass must implement (Python
refuses to instantiate it otherwise: "Can't instantiate abstract class ..."),
and the attribute chain on ``self`` that holds the request's ``Session``.

Taken from the SDK with ``cls.__mro__`` and ``cls.__abstractmethods__``;
``tests/test_python_truth_sdk.py`` re-reads them from the installed SDK so
this table cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SdkClass:
    name: str
    module: str  # where it is defined
    kinds: tuple[str, ...]  # the plugin bases it is a subclass of (itself included when it is one)
    abstract: tuple[str, ...]  # methods a concrete subclass must define
    session: tuple[str, ...] | None  # attribute chain on `self` to the Session, None: no session
    when_instantiated: str  # what fails when a subclass leaves an abstract method unimplemented

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"


_TOOL_CALL = "every invocation fails (the SDK builds the object per request)"
_START = "the plugin fails at start-up (the SDK builds it while loading the plugin)"
_MODEL = "every call of the model fails (the SDK builds it when the model is first used)"

_I = "dify_plugin.interfaces."
_MODEL_ABSTRACT = ("_invoke", "_invoke_error_mapping", "validate_credentials")

SDK_CLASSES: dict[str, SdkClass] = {
    c.name: c
    for c in (
        SdkClass("Tool", _I + "tool.tool", ("Tool",), ("_invoke",), ("session",), _TOOL_CALL),
        SdkClass("ToolProvider", _I + "tool.tool", ("ToolProvider",), (), None, _TOOL_CALL),
        SdkClass("Endpoint", _I + "endpoint.endpoint", ("Endpoint",), ("_invoke",), ("session",),
                 "every request to the endpoint fails with a 500 (the SDK builds the object per request)"),
        SdkClass("AgentStrategy", _I + "agent.strategy", ("AgentStrategy",), ("_invoke",), ("session",), _TOOL_CALL),
        SdkClass("AgentProvider", _I + "agent.strategy", ("AgentProvider", "ToolProvider"), (), None, _TOOL_CALL),
        SdkClass("DatasourceProvider", _I + "datasource.provider", ("DatasourceProvider",), (), None, _TOOL_CALL),
        SdkClass("OnlineDocumentDatasource", _I + "datasource.online_document", ("OnlineDocumentDatasource",),
                 ("_get_content", "_get_pages"), ("session",), _TOOL_CALL),
        SdkClass("OnlineDriveDatasource", _I + "datasource.online_drive", ("OnlineDriveDatasource",),
                 ("_browse_files", "_download_file"), ("session",), _TOOL_CALL),
        SdkClass("WebsiteCrawlDatasource", _I + "datasource.website", ("WebsiteCrawlDatasource",),
                 ("_get_website_crawl",), ("session",), _TOOL_CALL),
        SdkClass("ModelProvider", _I + "model.provider", ("ModelProvider",), ("validate_provider_credentials",), None, _START),
        SdkClass("AIModel", _I + "model.ai_model", ("AIModel",), ("_invoke_error_mapping", "validate_credentials"), None, _MODEL),
        SdkClass("LargeLanguageModel", _I + "model.large_language_model", ("LargeLanguageModel", "AIModel"),
                 (*_MODEL_ABSTRACT, "get_num_tokens"), None, _MODEL),
        SdkClass("TextEmbeddingModel", _I + "model.text_embedding_model", ("TextEmbeddingModel", "AIModel"),
                 (*_MODEL_ABSTRACT, "get_num_tokens"), None, _MODEL),
        SdkClass("RerankModel", _I + "model.rerank_model", ("RerankModel", "AIModel"), _MODEL_ABSTRACT, None, _MODEL),
        SdkClass("TTSModel", _I + "model.tts_model", ("TTSModel", "AIModel"), _MODEL_ABSTRACT, None, _MODEL),
        SdkClass("Speech2TextModel", _I + "model.speech2text_model", ("Speech2TextModel", "AIModel"), _MODEL_ABSTRACT, None, _MODEL),
        SdkClass("ModerationModel", _I + "model.moderation_model", ("ModerationModel", "AIModel"), _MODEL_ABSTRACT, None, _MODEL),
        SdkClass("OAICompatProvider", _I + "model.openai_compatible.provider", ("ModelProvider",), (), None, _START),
        SdkClass("OAICompatLargeLanguageModel", _I + "model.openai_compatible.llm", ("LargeLanguageModel", "AIModel"), (), None, _MODEL),
        SdkClass("OAICompatEmbeddingModel", _I + "model.openai_compatible.text_embedding", ("TextEmbeddingModel", "AIModel"), (), None, _MODEL),
        SdkClass("OAICompatRerankModel", _I + "model.openai_compatible.rerank", ("RerankModel", "AIModel"), (), None, _MODEL),
        SdkClass("OAICompatSpeech2TextModel", _I + "model.openai_compatible.speech2text", ("Speech2TextModel", "AIModel"), (), None, _MODEL),
        SdkClass("OAICompatText2SpeechModel", _I + "model.openai_compatible.tts", ("TTSModel", "AIModel"), (), None, _MODEL),
        SdkClass("Event", _I + "trigger.event", ("Event",), ("_on_event",), ("runtime", "session"), _TOOL_CALL),
        SdkClass("Trigger", _I + "trigger.trigger", ("Trigger",), ("_dispatch_event",), ("runtime", "session"), _TOOL_CALL),
        SdkClass("TriggerSubscriptionConstructor", _I + "trigger.trigger", ("TriggerSubscriptionConstructor",),
                 ("_create_subscription", "_delete_subscription", "_refresh_subscription"), ("runtime", "session"), _TOOL_CALL),
    )
}


# SDK helper classes plugins mix in beside a plugin base, with the methods they provide (they count
# towards implementing the base's abstract methods).
SDK_MIXINS: dict[str, tuple[str, ...]] = {
    "_CommonOaiApiCompat": ("_invoke_error_mapping", "_join_endpoint_url"),
}


def sdk_class(qualified: str) -> SdkClass | None:
    """The plugin base class a qualified import names (``dify_plugin.Tool``, ``dify_plugin.interfaces.tool.Tool`` ...)."""
    if not qualified.startswith("dify_plugin"):
        return None
    return SDK_CLASSES.get(qualified.rsplit(".", 1)[-1])
