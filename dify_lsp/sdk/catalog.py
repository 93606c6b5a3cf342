"""The reverse-invocation API of dify-plugin 0.10.2, as data.

Everything a plugin reaches through ``self.session`` (``self.runtime.session``
in triggers): the :class:`Session` attributes, the invocation objects behind
them (``session.model.llm``, ``session.app.chat``, ``session.storage``...),
each method's exact signature, return type, the wire invoke type the SDK
sends to the daemon, the manifest permission the daemon checks for it, and
the first SDK version that has it.

Verified against the SDK source (``dify_plugin/core/runtime.py``,
``dify_plugin/invocations/**``, ``dify_plugin/entities/model/*``) of 0.10.2;
the "since" versions come from the SDK's release history (every published version, pre-releases included:
:mod:`dify_lsp.sdk.releases`).
``tests/test_python_catalog.py`` checks names and parameters against
``inspect.signature`` of the real classes so this table cannot drift.

Rules and editor features read this module; nothing else in the project
spells out an SDK signature.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterator

from dify_lsp.i18n import ENGLISH, N_, Listing, msg, tr
from dify_lsp.sdk.permissions import PERMISSION_NEEDS

SDK_VERSION = "0.10.2"
FIRST_VERSION = "0.1.0"  # the oldest dify-plugin on PyPI


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    annotation: str
    default: str | None = None  # source text of the default; None: required
    keyword_only: bool = False
    doc: str = ""
    since: str | None = None  # when added after its method
    config_class: str | None = None  # the *ModelConfig the value must be (a dict is not accepted)

    @property
    def required(self) -> bool:
        return self.default is None

    def render(self) -> str:
        text = f"{self.name}: {self.annotation}"
        return f"{text} = {self.default}" if self.default is not None else text


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    params: tuple[Param, ...]
    returns: str
    doc: str
    example: str
    wire: str | None = None  # the InvokeType value sent to the daemon
    since: str = FIRST_VERSION
    sdk: str = ""  # qualified SDK name, e.g. dify_plugin.invocations.model.llm.LLMInvocation.invoke

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    @property
    def positional(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.keyword_only)

    def signature(self) -> str:
        return f"{self.name}(" + ", ".join(p.render() for p in self.params) + f") -> {self.returns}"

    @property
    def permission(self) -> tuple[str, ...]:
        return WIRE_PERMISSIONS.get(self.wire, ()) if self.wire else ()


@dataclass(frozen=True, slots=True)
class Attr:
    """A data attribute, or a namespace object when ``type`` names a catalog type."""

    name: str
    type: str
    doc: str
    since: str = FIRST_VERSION
    internal: bool = False  # exists, but is SDK plumbing: not offered in completion


@dataclass(frozen=True, slots=True)
class Type:
    name: str  # the SDK class name
    sdk: str  # its qualified name
    doc: str
    attrs: tuple[Attr, ...] = ()
    methods: tuple[Method, ...] = ()

    def member(self, name: str) -> Attr | Method | None:
        for a in self.attrs:
            if a.name == name:
                return a
        for m in self.methods:
            if m.name == name:
                return m
        return None

    def members(self, include_internal: bool = False) -> list[Attr | Method]:
        out: list[Attr | Method] = [a for a in self.attrs if include_internal or not a.internal]
        out.extend(self.methods)
        return out

    @property
    def callable_via(self) -> Method | None:
        """The one method to call when the object itself is called by mistake."""
        return self.member("invoke") if isinstance(self.member("invoke"), Method) else None  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ConfigClass:
    """A model configuration class (``dify_plugin.entities.model.*``)."""

    name: str
    module: str
    model_type: str
    fields: tuple[Param, ...]
    doc: str

    def signature(self) -> str:
        return f"{self.name}(" + ", ".join(p.render() for p in self.fields) + ")"


# -- permissions -------------------------------------------------------------------------
# wire invoke type -> the manifest keys under resource.permission that must be true
# (derived from the one permission table, dify_lsp.sdk.permissions).
WIRE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    wire: tuple(f"{group}.{key}" for group, key in need.flags) for wire, need in PERMISSION_NEEDS.items()
}


def permission_text(wire: str | None, language: str = ENGLISH) -> str:
    if wire is None:
        return tr(N_("no call to Dify"), language)
    keys = WIRE_PERMISSIONS.get(wire, ())
    if not keys:
        return tr(N_("none (always allowed)"), language)
    return tr(N_(" and "), language).join(f"`resource.permission.{k}: true`" for k in keys)


# -- model configuration classes -------------------------------------------------------------
_BASE_FIELDS = (
    Param("provider", "str", doc="provider, e.g. `langgenius/openai/openai` or `openai`"),
    Param("model", "str", doc="model name"),
)

CONFIG_CLASSES: dict[str, ConfigClass] = {
    c.name: c
    for c in (
        ConfigClass("LLMModelConfig", "dify_plugin.entities.model.llm", "llm",
                    (*_BASE_FIELDS, Param("mode", "str", doc="`chat` or `completion`"),
                     Param("completion_params", "dict", "{}"), Param("model_type", "ModelType", "ModelType.LLM")),
                    "Model class for llm model config."),
        ConfigClass("TextEmbeddingModelConfig", "dify_plugin.entities.model.text_embedding", "text-embedding",
                    (*_BASE_FIELDS, Param("model_type", "ModelType", "ModelType.TEXT_EMBEDDING")),
                    "Model class for text embedding model config."),
        ConfigClass("MultiModalEmbeddingModelConfig", "dify_plugin.entities.model.text_embedding", "text-embedding",
                    (*_BASE_FIELDS, Param("tenant_id", "str", doc="vendor tenant identifier associated with the dataset"),
                     Param("model_type", "ModelType", "ModelType.TEXT_EMBEDDING")),
                    "Configuration payload for invoking a multimodal embedding model."),
        ConfigClass("RerankModelConfig", "dify_plugin.entities.model.rerank", "rerank",
                    (*_BASE_FIELDS, Param("score_threshold", "float"), Param("top_n", "int"),
                     Param("model_type", "ModelType", "ModelType.RERANK")),
                    "Model class for rerank model config."),
        ConfigClass("MultiModalRerankModelConfig", "dify_plugin.entities.model.rerank", "rerank",
                    (*_BASE_FIELDS, Param("score_threshold", "float | None", "None"), Param("top_n", "int | None", "None"),
                     Param("model_type", "ModelType", "ModelType.RERANK")),
                    "Configuration payload for invoking a multimodal rerank model."),
        ConfigClass("TTSModelConfig", "dify_plugin.entities.model.tts", "tts",
                    (*_BASE_FIELDS, Param("voice", "str"), Param("model_type", "ModelType", "ModelType.TTS")),
                    "Model class for tts model config."),
        ConfigClass("Speech2TextModelConfig", "dify_plugin.entities.model.speech2text", "speech2text",
                    (*_BASE_FIELDS, Param("model_type", "ModelType", "ModelType.SPEECH2TEXT")),
                    "Model class for speech2text model config."),
        ConfigClass("ModerationModelConfig", "dify_plugin.entities.model.moderation", "moderation",
                    (*_BASE_FIELDS, Param("model_type", "ModelType", "ModelType.MODERATION")),
                    "Model class for moderation model config."),
    )
}


# -- the invocation objects ---------------------------------------------------------------------
def _cfg(name: str, doc: str = "") -> Param:
    return Param("model_config", name, doc=doc or f"a `{name}`; a plain dict is not accepted (the SDK calls `model_config.model_dump()`)", config_class=name)


_LLM_CONFIG = Param(
    "model_config", "LLMModelConfig | dict",
    doc="an `LLMModelConfig`, or a dict with its fields (e.g. the value of a `model-selector` parameter)",
)
_PROMPT_MESSAGES = Param("prompt_messages", "list[PromptMessage]", doc="`SystemPromptMessage`, `UserPromptMessage`, ... from `dify_plugin.entities.model.message`")
_TOOLS = Param("tools", "list[PromptMessageTool] | None", "None", doc="tools the model may call")
_STOP = Param("stop", "list[str] | None", "None", doc="stop sequences")
_STREAM = Param("stream", "bool", "True", doc="True: a generator of chunks; False: one result")
_INPUT_TYPE = Param("input_type", "EmbeddingInputType", "EmbeddingInputType.QUERY", doc="`EmbeddingInputType.QUERY` or `EmbeddingInputType.DOCUMENT`")
_APP_USER = Param("user", "str | None", "None", doc="the end user id", since="0.8.0")
_NODE_MODEL = Param("model", "ModelConfig", doc="`dify_plugin.entities.workflow_node.ModelConfig(provider, name, mode='chat', completion_params=None)`")
_BACKWARDS_SESSION = Attr("session", "Session | None", "The session this invocation calls back through.", internal=True)

_LLM_EXAMPLE = """from dify_plugin.entities.model.llm import LLMModelConfig
from dify_plugin.entities.model.message import UserPromptMessage

for chunk in self.session.model.llm.invoke(
    model_config=LLMModelConfig(provider="openai", model="gpt-4o-mini", mode="chat"),
    prompt_messages=[UserPromptMessage(content="Hello")],
    stream=True,
):
    yield self.create_text_message(chunk.delta.message.content)"""

TYPES: dict[str, Type] = {}


def _type(t: Type) -> Type:
    TYPES[t.name] = t
    return t


_type(Type(
    "LLMInvocation", "dify_plugin.invocations.model.llm.LLMInvocation",
    "Invoke one of the workspace's large language models.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method(
        "invoke", (_LLM_CONFIG, _PROMPT_MESSAGES, _TOOLS, _STOP, _STREAM),
        "Generator[LLMResultChunk, None, None] | LLMResult",
        "Invoke an LLM. With `stream=True` (the default) returns a generator of `LLMResultChunk` "
        "(text in `chunk.delta.message.content`); with `stream=False` one `LLMResult` (text in `result.message.content`). "
        "`model_config` may be a dict, e.g. a `model-selector` parameter value.",
        _LLM_EXAMPLE, wire="llm", sdk="dify_plugin.invocations.model.llm.LLMInvocation.invoke"),),
))
_type(Type(
    "LLMStructuredOutputInvocation", "dify_plugin.invocations.model.llm_structured_output.LLMStructuredOutputInvocation",
    "Invoke an LLM that answers with JSON matching a schema.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method(
        "invoke",
        (_LLM_CONFIG, _PROMPT_MESSAGES, Param("structured_output_schema", "dict[str, Any]", doc="a JSON schema the answer must follow"), _TOOLS, _STOP, _STREAM),
        "Generator[LLMResultChunkWithStructuredOutput, None, None] | LLMResultWithStructuredOutput",
        "Invoke an LLM with structured output. Streaming returns chunks whose `structured_output` carries the parsed JSON; "
        "`stream=False` returns one `LLMResultWithStructuredOutput` (`result.structured_output`).",
        """result = self.session.model.llm_structured_output.invoke(
    model_config=tool_parameters["model"],
    prompt_messages=[UserPromptMessage(content="Name a colour")],
    structured_output_schema={"type": "object", "properties": {"colour": {"type": "string"}}},
    stream=False,
)
colour = result.structured_output["colour"]""",
        wire="llm_structured_output", since="0.4.0",
        sdk="dify_plugin.invocations.model.llm_structured_output.LLMStructuredOutputInvocation.invoke"),),
))
_type(Type(
    "SummaryInvocation", "dify_plugin.invocations.model.llm.SummaryInvocation",
    "Summarize text with the workspace's system model.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method(
        "invoke",
        (Param("text", "str", doc="the text to summarize"), Param("instruction", "str", doc="extra instructions for the summary"),
         Param("min_summarize_length", "int", "1024", doc="texts shorter than this are returned unchanged, without a call")),
        "str",
        "Summarize `text` using the system model of the workspace (no model to choose). "
        "When `text` is shorter than `min_summarize_length` it is returned unchanged and Dify is not called.",
        """summary = self.session.model.summary.invoke(
    text=long_text,
    instruction="Summarize in three sentences",
)""",
        wire="system_summary", sdk="dify_plugin.invocations.model.llm.SummaryInvocation.invoke"),),
))
_type(Type(
    "TextEmbeddingInvocation", "dify_plugin.invocations.model.text_embedding.TextEmbeddingInvocation",
    "Embed texts with one of the workspace's text-embedding models.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(
        Method(
            "invoke", (_cfg("TextEmbeddingModelConfig"), Param("texts", "list[str]", doc="the texts to embed"), _INPUT_TYPE),
            "TextEmbeddingResult",
            "Embed texts; returns a `TextEmbeddingResult` (`embeddings: list[list[float]]`, `usage`). "
            "The SDK takes a `TextEmbeddingModelConfig` (older docs wrongly show `TextEmbeddingResult`).",
            """from dify_plugin.entities.model.text_embedding import TextEmbeddingModelConfig

result = self.session.model.text_embedding.invoke(
    model_config=TextEmbeddingModelConfig(provider="openai", model="text-embedding-3-small"),
    texts=["hello"],
)
vector = result.embeddings[0]""",
            wire="text_embedding", sdk="dify_plugin.invocations.model.text_embedding.TextEmbeddingInvocation.invoke"),
        Method(
            "invoke_multimodal",
            (_cfg("MultiModalEmbeddingModelConfig"), Param("documents", "list[MultiModalContent]", doc="`MultiModalContent(content=..., content_type=...)` items"), _INPUT_TYPE),
            "MultiModalEmbeddingResult",
            "Embed multimodal contents (text, images); returns a `MultiModalEmbeddingResult`.",
            """result = self.session.model.text_embedding.invoke_multimodal(
    model_config=MultiModalEmbeddingModelConfig(provider="jina", model="jina-clip-v2", tenant_id=tenant_id),
    documents=[MultiModalContent(content="hello", content_type="text")],
)""",
            wire="multimodal_embedding", since="0.7.0",
            sdk="dify_plugin.invocations.model.text_embedding.TextEmbeddingInvocation.invoke_multimodal"),
    ),
))
_type(Type(
    "RerankInvocation", "dify_plugin.invocations.model.rerank.RerankInvocation",
    "Rerank documents with one of the workspace's rerank models.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(
        Method(
            "invoke", (_cfg("RerankModelConfig"), Param("docs", "list[str]", doc="the documents to rank"), Param("query", "str", doc="the query to rank against")),
            "RerankResult",
            "Rerank `docs` against `query`; returns a `RerankResult` (`docs: list[RerankDocument]` with `index`, `text`, `score`). "
            "`RerankModelConfig` needs `score_threshold` and `top_n`.",
            """from dify_plugin.entities.model.rerank import RerankModelConfig

result = self.session.model.rerank.invoke(
    model_config=RerankModelConfig(provider="cohere", model="rerank-english-v3.0", score_threshold=0.5, top_n=3),
    docs=["a", "b"],
    query="which one?",
)""",
            wire="rerank", sdk="dify_plugin.invocations.model.rerank.RerankInvocation.invoke"),
        Method(
            "invoke_multimodal",
            (_cfg("MultiModalRerankModelConfig"), Param("query", "MultiModalContent"), Param("docs", "list[MultiModalContent]")),
            "MultiModalRerankResult",
            "Rerank multimodal documents against a multimodal query; returns a `MultiModalRerankResult`.",
            """result = self.session.model.rerank.invoke_multimodal(
    model_config=MultiModalRerankModelConfig(provider="jina", model="jina-reranker-m0"),
    query=MultiModalContent(content="cat", content_type="text"),
    docs=[MultiModalContent(content=image_url, content_type="image")],
)""",
            wire="multimodal_rerank", since="0.7.0",
            sdk="dify_plugin.invocations.model.rerank.RerankInvocation.invoke_multimodal"),
    ),
))
_type(Type(
    "TTSInvocation", "dify_plugin.invocations.model.tts.TTSInvocation",
    "Turn text into speech with one of the workspace's TTS models.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method(
        "invoke", (_cfg("TTSModelConfig"), Param("content_text", "str", doc="the text to speak")),
        "Generator[bytes, None, None]",
        "Text to speech. Returns an audio byte stream (the docs say mp3): a generator of `bytes`, "
        "each item a complete piece of audio. `TTSModelConfig` needs `voice`.",
        """from dify_plugin.entities.model.tts import TTSModelConfig

audio = b"".join(self.session.model.tts.invoke(
    model_config=TTSModelConfig(provider="openai", model="tts-1", voice="alloy"),
    content_text="Hello",
))
yield self.create_blob_message(audio, meta={"mime_type": "audio/mpeg"})""",
        wire="tts", sdk="dify_plugin.invocations.model.tts.TTSInvocation.invoke"),),
))
_type(Type(
    "Speech2TextInvocation", "dify_plugin.invocations.model.speech2text.Speech2TextInvocation",
    "Transcribe audio with one of the workspace's speech-to-text models.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method(
        "invoke", (_cfg("Speech2TextModelConfig"), Param("file", "IO[bytes]", doc="an open binary file (the docs say mp3); the SDK reads it whole")),
        "str",
        "Speech to text: transcribes an audio file (mp3 per the docs) and returns the text.",
        """import io
from dify_plugin.entities.model.speech2text import Speech2TextModelConfig

text = self.session.model.speech2text.invoke(
    model_config=Speech2TextModelConfig(provider="openai", model="whisper-1"),
    file=io.BytesIO(audio_bytes),
)""",
        wire="speech2text", sdk="dify_plugin.invocations.model.speech2text.Speech2TextInvocation.invoke"),),
))
_type(Type(
    "ModerationInvocation", "dify_plugin.invocations.model.moderation.ModerationInvocation",
    "Check text with one of the workspace's moderation models.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method(
        "invoke", (_cfg("ModerationModelConfig"), Param("text", "str", doc="the text to check")),
        "bool",
        "Moderation: returns True when the text is sensitive (contains content the model flags), False otherwise.",
        """from dify_plugin.entities.model.moderation import ModerationModelConfig

flagged = self.session.model.moderation.invoke(
    model_config=ModerationModelConfig(provider="openai", model="omni-moderation-latest"),
    text=user_text,
)""",
        wire="moderation", sdk="dify_plugin.invocations.model.moderation.ModerationInvocation.invoke"),),
))
_type(Type(
    "ModelInvocations", "dify_plugin.core.runtime.ModelInvocations",
    "The workspace's models: one invocation object per model type.",
    attrs=(
        Attr("llm", "LLMInvocation", "Large language models: `.invoke(model_config, prompt_messages, ...)`."),
        Attr("llm_structured_output", "LLMStructuredOutputInvocation", "LLMs answering JSON that follows a schema.", since="0.4.0"),
        Attr("text_embedding", "TextEmbeddingInvocation", "Text-embedding models: `.invoke(TextEmbeddingModelConfig, texts)`."),
        Attr("rerank", "RerankInvocation", "Rerank models: `.invoke(RerankModelConfig, docs, query)`."),
        Attr("speech2text", "Speech2TextInvocation", "Speech-to-text models: `.invoke(Speech2TextModelConfig, file)` -> str."),
        Attr("tts", "TTSInvocation", "Text-to-speech models: `.invoke(TTSModelConfig, content_text)` -> audio byte stream."),
        Attr("moderation", "ModerationInvocation", "Moderation models: `.invoke(ModerationModelConfig, text)` -> True when sensitive."),
        Attr("summary", "SummaryInvocation", "Summaries with the workspace's system model: `.invoke(text, instruction)` (not callable itself)."),
    ),
))


def _app_method(cls: str, module: str, params: tuple[Param, ...], doc: str, example: str) -> Type:
    return Type(
        cls, f"dify_plugin.invocations.app.{module}.{cls}", doc,
        attrs=(_BACKWARDS_SESSION,),
        methods=(Method(
            "invoke", params, "Generator[dict, None, None] | dict",
            doc + " `response_mode='streaming'` returns a generator of event dicts; `'blocking'` one dict.",
            example, wire="app", sdk=f"dify_plugin.invocations.app.{module}.{cls}.invoke"),),
    )


_type(_app_method(
    "ChatAppInvocation", "chat",
    (Param("app_id", "str"), Param("query", "str"), Param("inputs", "dict"),
     Param("response_mode", 'Literal["streaming", "blocking"]', '"streaming"'),
     Param("conversation_id", "str | None", "None"), _APP_USER),
    "Send a message to a chatbot / agent / chatflow app of the workspace.",
    """answer = self.session.app.chat.invoke(
    app_id=app_id, query="Hi", inputs={}, response_mode="blocking",
)["answer"]""",
))
_type(_app_method(
    "CompletionAppInvocation", "completion",
    (Param("app_id", "str"), Param("inputs", "dict"), Param("response_mode", 'Literal["streaming", "blocking"]', '"blocking"'), _APP_USER),
    "Run a text-generation (completion) app of the workspace.",
    """result = self.session.app.completion.invoke(app_id=app_id, inputs={"query": "Hi"}, response_mode="blocking")""",
))
_type(_app_method(
    "WorkflowAppInvocation", "workflow",
    (Param("app_id", "str"), Param("inputs", "dict"), Param("response_mode", 'Literal["streaming", "blocking"]', '"blocking"'), _APP_USER),
    "Run a workflow app of the workspace.",
    """result = self.session.app.workflow.invoke(app_id=app_id, inputs={"x": 1}, response_mode="blocking")""",
))
_type(Type(
    "FetchAppInvocation", "dify_plugin.invocations.app.fetch_app.FetchAppInvocation",
    "Fetches an app's details (use `session.app.fetch_app(app_id)`).",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method("get", (Param("app_id", "str"),), "Mapping", "Fetch an app's details.",
                    "info = self.session.app.fetch_app_invocation.get(app_id)", wire="fetch_app", since="0.2.0",
                    sdk="dify_plugin.invocations.app.fetch_app.FetchAppInvocation.get"),),
))
_type(Type(
    "AppInvocations", "dify_plugin.core.runtime.AppInvocations",
    "The workspace's apps: chat, completion and workflow apps.",
    attrs=(
        Attr("chat", "ChatAppInvocation", "Chatbot, agent and chatflow apps: `.invoke(app_id, query, inputs, response_mode='streaming', ...)`."),
        Attr("completion", "CompletionAppInvocation", "Text-generation apps: `.invoke(app_id, inputs, response_mode='blocking', ...)`."),
        Attr("workflow", "WorkflowAppInvocation", "Workflow apps: `.invoke(app_id, inputs, response_mode='blocking', ...)`."),
        Attr("fetch_app_invocation", "FetchAppInvocation", "The object behind `fetch_app`.", since="0.2.0", internal=True),
    ),
    methods=(Method("fetch_app", (Param("app_id", "str"),), "Mapping",
                    "Fetch an app's details (name, mode, parameters ...) as a mapping.",
                    "app = self.session.app.fetch_app(app_id)", wire="fetch_app", since="0.2.0",
                    sdk="dify_plugin.core.runtime.AppInvocations.fetch_app"),),
))

_TOOL_TRIPLE = (Param("provider", "str", doc="the tool provider's name"), Param("tool_name", "str"), Param("parameters", "dict[str, Any]"))
_type(Type(
    "ToolInvocation", "dify_plugin.invocations.tool.ToolInvocation",
    "Call other tools installed in the workspace.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(
        Method("invoke",
               (Param("provider_type", "ToolProviderType", doc="`ToolProviderType.BUILT_IN`, `.WORKFLOW`, `.API`, ... from `dify_plugin.entities.tool`"),
                *_TOOL_TRIPLE, Param("credential_id", "str | None", "None", doc="the credential to use (else the session's)", since="0.4.2")),
               "Generator[ToolInvokeMessage, None, None]",
               "Invoke a tool of any provider type; yields the tool's messages.",
               """for message in self.session.tool.invoke(ToolProviderType.BUILT_IN, "time", "current_time", {}):
    yield message""", wire="tool", sdk="dify_plugin.invocations.tool.ToolInvocation.invoke"),
        Method("invoke_builtin_tool", _TOOL_TRIPLE, "Generator[ToolInvokeMessage, None, None]",
               "Invoke a built-in (plugin) tool; yields the tool's messages.",
               """for message in self.session.tool.invoke_builtin_tool("time", "current_time", {}):
    yield message""", wire="tool", sdk="dify_plugin.invocations.tool.ToolInvocation.invoke_builtin_tool"),
        Method("invoke_workflow_tool", _TOOL_TRIPLE, "Generator[ToolInvokeMessage, None, None]",
               "Invoke a workflow published as a tool; yields the tool's messages.",
               """messages = list(self.session.tool.invoke_workflow_tool(provider_id, "my_workflow", {"x": 1}))""",
               wire="tool", sdk="dify_plugin.invocations.tool.ToolInvocation.invoke_workflow_tool"),
        Method("invoke_api_tool", _TOOL_TRIPLE, "Generator[ToolInvokeMessage, None, None]",
               "Invoke a custom (OpenAPI) tool; yields the tool's messages.",
               """messages = list(self.session.tool.invoke_api_tool(provider_id, "get_weather", {"city": "Paris"}))""",
               wire="tool", sdk="dify_plugin.invocations.tool.ToolInvocation.invoke_api_tool"),
    ),
))

_NODE_TAIL = (Param("query", "str"), Param("instruction", "str", '""'))
_type(Type(
    "QuestionClassifierNodeInvocation", "dify_plugin.invocations.workflow_node.question_classifier.QuestionClassifierNodeInvocation",
    "Run a question-classifier node.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method("invoke", (Param("classes", "list[ClassConfig]", doc="`ClassConfig(id, name)` items"), _NODE_MODEL, *_NODE_TAIL),
                    "NodeResponse",
                    "Classify `query` into one of `classes`; returns `NodeResponse` (`process_data`, `inputs`, `outputs`).",
                    """from dify_plugin.entities.workflow_node import ClassConfig, ModelConfig

result = self.session.workflow_node.question_classifier.invoke(
    classes=[ClassConfig(id="1", name="weather"), ClassConfig(id="2", name="other")],
    model=ModelConfig(provider="openai", name="gpt-4o-mini"),
    query="Will it rain?",
)""", wire="node_question_classifier",
                    sdk="dify_plugin.invocations.workflow_node.question_classifier.QuestionClassifierNodeInvocation.invoke"),),
))
_type(Type(
    "ParameterExtractorNodeInvocation", "dify_plugin.invocations.workflow_node.parameter_extractor.ParameterExtractorNodeInvocation",
    "Run a parameter-extractor node.",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method("invoke", (Param("parameters", "list[ParameterConfig]", doc="`ParameterConfig(name, type, options, description, required)` items"), _NODE_MODEL, *_NODE_TAIL),
                    "NodeResponse",
                    "Extract `parameters` from `query` with an LLM; returns `NodeResponse` (`process_data`, `inputs`, `outputs`).",
                    """result = self.session.workflow_node.parameter_extractor.invoke(
    parameters=[ParameterConfig(name="city", type="string", description="the city", required=True)],
    model=ModelConfig(provider="openai", name="gpt-4o-mini"),
    query="Weather in Paris?",
)""", wire="node_parameter_extractor",
                    sdk="dify_plugin.invocations.workflow_node.parameter_extractor.ParameterExtractorNodeInvocation.invoke"),),
))
_type(Type(
    "WorkflowNodeInvocations", "dify_plugin.core.runtime.WorkflowNodeInvocations",
    "Workflow nodes the plugin can run directly.",
    attrs=(
        Attr("question_classifier", "QuestionClassifierNodeInvocation", "Question classifier: `.invoke(classes, model, query, instruction='')`."),
        Attr("parameter_extractor", "ParameterExtractorNodeInvocation", "Parameter extractor: `.invoke(parameters, model, query, instruction='')`."),
    ),
))
_type(Type(
    "StorageInvocation", "dify_plugin.invocations.storage.StorageInvocation",
    "Persistent key-value storage of the plugin (bytes values; size limited by `resource.permission.storage.size`).",
    attrs=(_BACKWARDS_SESSION,),
    methods=(
        Method("set", (Param("key", "str"), Param("val", "bytes")), "None", "Set a value into persistence storage.",
               'self.session.storage.set("counter", b"1")', wire="storage", sdk="dify_plugin.invocations.storage.StorageInvocation.set"),
        Method("get", (Param("key", "str"),), "bytes", "Get a key from persistence storage (raises when the key does not exist).",
               'value = self.session.storage.get("counter")', wire="storage", sdk="dify_plugin.invocations.storage.StorageInvocation.get"),
        Method("delete", (Param("key", "str"),), "None", "Delete a key from persistence storage.",
               'self.session.storage.delete("counter")', wire="storage", sdk="dify_plugin.invocations.storage.StorageInvocation.delete"),
        Method("exist", (Param("key", "str"),), "bool", "Check for the existence of a key in persistence storage.",
               'if self.session.storage.exist("counter"): ...', wire="storage", since="0.2.0",
               sdk="dify_plugin.invocations.storage.StorageInvocation.exist"),
    ),
))
_type(Type(
    "File", "dify_plugin.invocations.file.File",
    "Upload files to Dify (e.g. to return them from a tool).",
    attrs=(_BACKWARDS_SESSION,),
    methods=(Method("upload", (Param("filename", "str"), Param("content", "bytes"), Param("mimetype", "str")),
                    "UploadFileResponse",
                    "Upload a file; returns `UploadFileResponse` (`id`, `name`, `size`, `extension`, `mime_type`, `type`, `preview_url`). "
                    "The SDK asks Dify for a signed URL, then POSTs the bytes to it.",
                    """uploaded = self.session.file.upload("report.csv", data, "text/csv")
yield self.create_text_message(uploaded.preview_url or uploaded.id)""",
                    wire="upload_file", sdk="dify_plugin.invocations.file.File.upload"),),
))
_type(Type(
    "Session", "dify_plugin.core.runtime.Session",
    "The current request's session: ids of the conversation / message / app, and every reverse invocation into Dify.",
    attrs=(
        Attr("model", "ModelInvocations", "The workspace's models: `llm`, `llm_structured_output`, `text_embedding`, `rerank`, `tts`, `speech2text`, `moderation`, `summary`."),
        Attr("tool", "ToolInvocation", "Call other tools: `invoke`, `invoke_builtin_tool`, `invoke_workflow_tool`, `invoke_api_tool`."),
        Attr("app", "AppInvocations", "Call the workspace's apps: `chat`, `completion`, `workflow`, `fetch_app`."),
        Attr("workflow_node", "WorkflowNodeInvocations", "Run workflow nodes: `question_classifier`, `parameter_extractor`."),
        Attr("storage", "StorageInvocation", "Persistent key-value storage: `set`, `get`, `delete`, `exist`."),
        Attr("file", "File", "Upload files: `upload(filename, content, mimetype)`."),
        Attr("session_id", "str", "The id of this session."),
        Attr("conversation_id", "str | None", "The conversation the tool runs in (chat apps), else None."),
        Attr("message_id", "str | None", "The message being answered, else None."),
        Attr("app_id", "str | None", "The app the plugin runs in, else None."),
        Attr("endpoint_id", "str | None", "The endpoint being called (endpoints), else None."),
        Attr("context", "SessionContext", "Session-level context (e.g. `context.credentials.tool_credentials`).", since="0.4.2"),
        Attr("install_method", "InstallMethod | None", "How the plugin runs: local, remote (debugging) or serverless."),
        Attr("dify_plugin_daemon_url", "str | None", "The daemon URL used for reverse calls in serverless mode."),
        Attr("max_invocation_timeout", "int", "Seconds a reverse call may wait for an answer (MAX_INVOCATION_TIMEOUT, default 250).", since="0.6.0"),
        Attr("reader", "RequestReader", "The SDK's transport (internal).", internal=True),
        Attr("writer", "ResponseWriter", "The SDK's transport (internal).", internal=True),
    ),
    methods=(Method("empty_session", (), "Session", "A session that cannot call Dify (class method; used in tests and `Tool.from_credentials`).",
                    "session = Session.empty_session()", sdk="dify_plugin.core.runtime.Session.empty_session"),),
))


def _apply_release_history() -> None:
    """Take every member's "since" from the SDK's real release history (pre-releases included):
    :data:`dify_lsp.sdk.releases.FIRST_RELEASE`, so hover and DL210 say the same thing."""
    from dataclasses import replace

    from dify_lsp.sdk.releases import FIRST_RELEASE

    done: set[str] = set()

    def visit(t: Type, prefix: tuple[str, ...]) -> None:
        if t.name in done:
            return
        done.add(t.name)
        attrs = []
        for a in t.attrs:
            first = FIRST_RELEASE.get(".".join((*prefix, a.name)))
            attrs.append(replace(a, since=first) if first and a.name != "session" else a)
        methods = []
        for m in t.methods:
            key = ".".join((*prefix, m.name))
            first = FIRST_RELEASE.get(key, m.since)
            params = tuple(
                replace(p, since=FIRST_RELEASE[f"{key}({p.name})"])
                if FIRST_RELEASE.get(f"{key}({p.name})", first) != first else replace(p, since=None)
                for p in m.params
            )
            methods.append(replace(m, since=first, params=params))
        TYPES[t.name] = replace(t, attrs=tuple(attrs), methods=tuple(methods))
        for a in t.attrs:
            sub = TYPES.get(a.type)
            if sub is not None and a.name != "session":
                visit(sub, (*prefix, a.name))

    visit(TYPES["Session"], ())


_apply_release_history()


def _invocation_paths() -> dict[str, tuple[str, ...]]:
    """SDK invocation class name -> its path from the session (``ChatAppInvocation`` -> ('app', 'chat')).

    Plugins may build these objects themselves from the session (``ChatAppInvocation(self.session)``);
    they then call Dify exactly as ``self.session.app.chat`` does.
    """
    out: dict[str, tuple[str, ...]] = {}

    def visit(t: Type, prefix: tuple[str, ...]) -> None:
        for a in t.attrs:
            sub = TYPES.get(a.type)
            if sub is None or a.name == "session":
                continue
            if sub.sdk.startswith("dify_plugin.invocations."):
                out.setdefault(sub.name, (*prefix, a.name))
            visit(sub, (*prefix, a.name))

    visit(TYPES["Session"], ())
    return out


INVOCATION_PATHS = _invocation_paths()


# -- which class each YAML kind's extra.python.source must define ------------------------------------
# The SDK's class loader looks for one subclass of these (dify_lsp.sdk.classes describes the classes:
# their modules, abstract methods and where they keep the session).
YAML_KIND_BASES: dict[str, tuple[str, ...]] = {
    "tool": ("Tool",),
    "tool_provider": ("ToolProvider",),
    "endpoint": ("Endpoint",),
    "agent_strategy": ("AgentStrategy",),
    "agent_provider": ("AgentProvider",),
    # the one matching the provider's provider_type
    "datasource": ("OnlineDocumentDatasource", "OnlineDriveDatasource", "WebsiteCrawlDatasource"),
    "datasource_provider": ("DatasourceProvider",),
    # a trigger provider's extra.python.source holds the Trigger; its subscription constructor has its own key
    "trigger_provider": ("Trigger",),
    "trigger_event": ("Event",),
    "model_provider": ("ModelProvider",),
}
SUBSCRIPTION_CONSTRUCTOR_BASE = "TriggerSubscriptionConstructor"


# -- navigation --------------------------------------------------------------------------------------
ROOT = "Session"


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a chain of names after the session resolves to."""

    owner: Type | None  # the type holding the last member (None for the session itself)
    member: Attr | Method | None  # the last member
    type: Type | None  # the catalog type of the result, when it is a namespace object

    @property
    def is_method(self) -> bool:
        return isinstance(self.member, Method)


def session_type() -> Type:
    return TYPES[ROOT]


def resolve(names: tuple[str, ...] | list[str]) -> tuple[Resolved | None, int]:
    """Follow ``names`` from the Session.

    Returns (resolution, index of the first name that does not resolve);
    the index is ``len(names)`` when every name resolved.  A name after a
    method or a plain data attribute stops the walk (the catalog does not
    model their results), with resolution None and index of that name.
    """
    return _resolve(tuple(names))


# A pure function of the names (the catalog is built once, on import): the rules ask again for every chain of
# every file on each check, and a plugin has few distinct chains.
@functools.lru_cache(maxsize=4096)
def _resolve(names: tuple[str, ...]) -> tuple[Resolved | None, int]:
    current: Type | None = session_type()
    last = Resolved(None, None, current)
    for i, name in enumerate(names):
        if current is None:
            return None, i
        member = current.member(name)
        if member is None:
            return None, i
        nxt = TYPES.get(member.type) if isinstance(member, Attr) else None
        last = Resolved(current, member, nxt)
        current = nxt
    return last, len(names)


def walk_methods() -> Iterator[tuple[tuple[str, ...], Type, Method]]:
    """Every catalogued method with its path from the session, e.g. (('model', 'llm', 'invoke'), LLMInvocation, invoke)."""

    def visit(t: Type, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Type, Method]]:
        for m in t.methods:
            yield (*prefix, m.name), t, m
        for a in t.attrs:
            if a.type in TYPES and a.name != "session":
                yield from visit(TYPES[a.type], (*prefix, a.name))

    yield from visit(session_type(), ())


def member_markdown(path: tuple[str, ...], owner: Type | None, member: Attr | Method | None, language: str = ENGLISH) -> str:
    """Hover / completion documentation for the member at ``path`` (names after the session), in ``language``."""

    def _(text: str) -> str:
        return tr(text, language)

    dotted = ".".join(("session", *path))
    if member is None:
        t = session_type()
        return f"```python\n{dotted}: {t.name}\n```\n\n{_(t.doc)}\n\n`{t.sdk}`"
    if isinstance(member, Method):
        lines = [f"```python\n{dotted[: -len(member.name)]}{member.signature()}\n```", "", _(member.doc), ""]
        lines.append(_(msg("**Returns** `{type}`", type=member.returns)))
        params = [p for p in member.params if p.doc or p.since or p.config_class]
        if params:
            lines.append("")
            lines.append(_(N_("**Parameters**")))
            for p in params:
                extra = _(msg(" (since SDK {version})", version=p.since)) if p.since else ""
                lines.append(f"- `{p.name}`{extra}: {_(p.doc)}")
        if member.wire is not None:
            lines.append("")
            lines.append(_(msg("**Manifest permission**: {permission} (wire invoke type `{wire}`)",
                               permission=permission_text(member.wire, language), wire=member.wire)))
        lines.append("")
        lines.append(_(msg("**Since** dify-plugin {version}", version=member.since)))
        if member.example:
            lines.append("")
            lines.append(_(N_("**Example**")))
            lines.append(f"```python\n{member.example}\n```")
        return "\n".join(lines)
    t = TYPES.get(member.type)
    lines = [f"```python\n{dotted}: {member.type}\n```", "", _(member.doc)]
    if t is not None:
        lines.append("")
        lines.append(_(t.doc))
        names = [m.name + ("()" if isinstance(m, Method) else "") for m in t.members()]
        names = [n for n in names if n != "session"]
        if names:
            lines.append("")
            lines.append(_(msg("Members: {names}", names=Listing(f"`{n}`" for n in names))))
        wires = sorted({m.wire for _path, _owner, m in walk_methods_of(t) if m.wire})
        if wires:
            lines.append("")
            needs = "; ".join(_(msg("`{wire}` needs {permission}", wire=w, permission=permission_text(w, language))) for w in wires)
            lines.append(_(msg("**Manifest permission**: {needs}", needs=needs)))
    lines.append("")
    lines.append(_(msg("**Since** dify-plugin {version}", version=member.since)))
    return "\n".join(lines)


def walk_methods_of(t: Type) -> Iterator[tuple[tuple[str, ...], Type, Method]]:
    for m in t.methods:
        yield (m.name,), t, m
    for a in t.attrs:
        if a.type in TYPES and a.name != "session":
            for path, owner, m in walk_methods_of(TYPES[a.type]):
                yield (a.name, *path), owner, m
