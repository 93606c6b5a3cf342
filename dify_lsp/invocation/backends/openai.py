"""The ``openai`` backend: model invocations sent to an OpenAI-compatible HTTP endpoint.

Settings (the ``run.openai`` object): ``baseUrl`` (default ``https://api.openai.com/v1``),
``apiKeyEnv`` (the NAME of the environment variable holding the key, default
``OPENAI_API_KEY``; the key itself is never a setting and never logged) and
``models``, a mapping from a model type (``llm``, ``text-embedding``, ``rerank``,
``tts``, ``speech2text``, ``moderation``) or a Dify model name (``model`` or
``provider/model``) to the endpoint's model name.

Endpoints: ``/chat/completions`` (streamed, SSE), ``/embeddings``, ``/rerank``
(the Jina/Cohere shape that vLLM, LocalAI, Xinference... serve), ``/audio/speech``,
``/audio/transcriptions``, ``/moderations``.  Storage, files, apps, tools and
workflow nodes are answered like the mock backend (see :mod:`.platform`).
"""

from __future__ import annotations

import binascii
import json
import os
import time
from typing import Any, AsyncIterator, Mapping

import httpx

from dify_lsp.invocation.backends.base import Backend, BackendError, InvokeContext, model_selector_value
from dify_lsp.invocation.backends.mock import embedding_usage, llm_chunk, llm_usage, message_text, null_content_warning, words
from dify_lsp.invocation.backends.platform import Platform
from dify_lsp.sdk.permissions import MODEL_TYPE_OF_INVOKE

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_MODELS = {
    "llm": "gpt-4o-mini", "text-embedding": "text-embedding-3-small", "rerank": "rerank",
    "tts": "tts-1", "speech2text": "whisper-1", "moderation": "omni-moderation-latest",
}


def openai_messages(prompt_messages: list[Any]) -> list[dict[str, Any]]:
    """Dify prompt messages as OpenAI chat messages."""
    out: list[dict[str, Any]] = []
    for m in prompt_messages:
        if not isinstance(m, dict):
            continue
        role = m.get("role") or "user"
        content = m.get("content")
        if isinstance(content, list):
            parts: list[dict[str, Any]] = []
            for p in content:
                if not isinstance(p, dict):
                    continue
                if p.get("type") == "text":
                    parts.append({"type": "text", "text": str(p.get("data", ""))})
                elif p.get("type") == "image":
                    url = p.get("url") or (f"data:{p.get('mime_type') or 'image/png'};base64,{p.get('base64_data')}" if p.get("base64_data") else p.get("data"))
                    parts.append({"type": "image_url", "image_url": {"url": url}})
            content = parts
        msg: dict[str, Any] = {"role": role, "content": content}
        if role == "assistant" and m.get("tool_calls"):
            msg["tool_calls"] = [
                {"id": c.get("id"), "type": "function", "function": c.get("function")} for c in m["tool_calls"] if isinstance(c, dict)
            ]
        if role == "tool":
            msg["tool_call_id"] = m.get("tool_call_id")
        if m.get("name"):
            msg["name"] = m["name"]
        out.append(msg)
    return out


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, settings: Mapping[str, Any], platform: Platform | None = None) -> None:
        self.base_url = str(settings.get("baseUrl") or DEFAULT_BASE_URL).rstrip("/")
        self.key_env = str(settings.get("apiKeyEnv") or DEFAULT_KEY_ENV)
        self.models = {**DEFAULT_MODELS, **{str(k): str(v) for k, v in (settings.get("models") or {}).items()}}
        self.platform = platform
        self._client: httpx.AsyncClient | None = None
        self._warned_key = False

    def default_model(self, model_type: str) -> dict[str, Any]:
        return model_selector_value("openai", self.models.get(model_type, model_type), model_type)

    def endpoint_model(self, request: Mapping[str, Any], model_type: str) -> str:
        """The endpoint's model for a request: by provider/model, model, then model type."""
        model = str(request.get("model") or "")
        provider = str(request.get("provider") or "")
        for key in (f"{provider}/{model}", model):
            if key in self.models and key not in DEFAULT_MODELS:
                return self.models[key]
        return self.models.get(model_type) or model

    def client(self, ctx: InvokeContext) -> httpx.AsyncClient:
        if self._client is None:
            headers = {}
            key = os.environ.get(self.key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
            elif not self._warned_key:
                self._warned_key = True
                ctx.warnings.append(f"openai backend: the environment variable {self.key_env} is not set; requests are sent without an API key")
            self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(120, connect=10))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self.platform is not None:
            self.platform.close()

    async def invoke_model(self, invoke_type: str, request: dict[str, Any], ctx: InvokeContext) -> AsyncIterator[dict[str, Any]]:
        handler = getattr(self, "_" + invoke_type, None)
        if handler is None:
            raise BackendError(f"unsupported invoke type: {invoke_type}")
        try:
            async for item in handler(request, ctx):
                yield item
        except httpx.HTTPError as exc:
            raise BackendError(f"invoke {MODEL_TYPE_OF_INVOKE.get(invoke_type, invoke_type)} model failed: {type(exc).__name__}: {exc}") from None

    async def _post(self, ctx: InvokeContext, path: str, what: str, **kwargs: Any) -> httpx.Response:
        response = await self.client(ctx).post(path, **kwargs)
        if response.status_code >= 400:
            raise BackendError(f"invoke {what} model failed: HTTP {response.status_code} from {self.base_url}{path}: {response.text[:500]}")
        return response

    # -- llm ------------------------------------------------------------------
    def _chat_body(self, request: dict[str, Any], stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.endpoint_model(request, "llm"),
            "messages": openai_messages(request.get("prompt_messages") or []),
            "stream": stream,
        }
        params = request.get("completion_params") or {}
        for key in ("temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty", "seed"):
            if key in params:
                body[key] = params[key]
        if request.get("stop"):
            body["stop"] = request["stop"]
        tools = request.get("tools")
        if tools:
            body["tools"] = [{"type": "function", "function": {"name": t.get("name"), "description": t.get("description"),
                                                                "parameters": t.get("parameters")}} for t in tools if isinstance(t, dict)]
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    async def _llm(self, request: dict[str, Any], ctx: InvokeContext, structured: dict | None = None):
        warning = null_content_warning(request)
        if warning and warning not in ctx.warnings:
            ctx.warnings.append(warning)
        model = str(request.get("model") or "")
        stream = request.get("stream") is not False
        body = self._chat_body(request, stream)
        if structured is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": structured}}
        started = time.perf_counter()
        if not stream:
            data = (await self._post(ctx, "/chat/completions", "llm", json=body)).json()
            choice = (data.get("choices") or [{}])[0]
            message = choice.get("message") or {}
            content = message.get("content") or ""
            u = data.get("usage") or {}
            usage = llm_usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0), time.perf_counter() - started)
            chunk = llm_chunk(model, 0, content, usage, choice.get("finish_reason") or "stop", _tool_calls(message.get("tool_calls")))
            if structured is not None:
                chunk["structured_output"] = _parse_json(content)
            yield chunk
            return
        index = 0
        answer = ""
        pending_calls: dict[int, dict[str, Any]] = {}
        finish: str | None = None
        usage_seen: dict[str, Any] | None = None
        async with self.client(ctx).stream("POST", "/chat/completions", json=body) as response:
            if response.status_code >= 400:
                text = (await response.aread()).decode("utf-8", "replace")
                raise BackendError(f"invoke llm model failed: HTTP {response.status_code} from {self.base_url}/chat/completions: {text[:500]}")
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    event = json.loads(payload)
                except ValueError:
                    continue
                if event.get("usage"):
                    usage_seen = event["usage"]
                for choice in event.get("choices") or []:
                    delta = choice.get("delta") or {}
                    for call in delta.get("tool_calls") or []:
                        slot = pending_calls.setdefault(int(call.get("index", 0)), {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
                        slot["id"] = call.get("id") or slot["id"]
                        fn = call.get("function") or {}
                        slot["function"]["name"] += fn.get("name") or ""
                        slot["function"]["arguments"] += fn.get("arguments") or ""
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                    content = delta.get("content")
                    if content:
                        answer += content
                        yield llm_chunk(model, index, content)
                        index += 1
        prompt_tokens = int((usage_seen or {}).get("prompt_tokens") or sum(len(words(message_text(m.get("content")) or "")) for m in request.get("prompt_messages") or [] if isinstance(m, dict)))
        completion_tokens = int((usage_seen or {}).get("completion_tokens") or len(words(answer)))
        last = llm_chunk(model, index, "", llm_usage(prompt_tokens, completion_tokens, time.perf_counter() - started),
                         finish or "stop", _tool_calls(list(pending_calls.values())))
        if structured is not None:
            last["structured_output"] = _parse_json(answer)
        yield last

    async def _llm_structured_output(self, request: dict[str, Any], ctx: InvokeContext):
        async for chunk in self._llm(request, ctx, request.get("structured_output_schema") or {"type": "object"}):
            yield chunk

    async def _system_summary(self, request: dict[str, Any], ctx: InvokeContext):
        chat = {"model": self.models["llm"], "stream": False, "prompt_messages": [
            {"role": "system", "content": str(request.get("instruction") or "Summarize the text.")},
            {"role": "user", "content": str(request.get("text") or "")},
        ]}
        async for chunk in self._llm(chat, ctx):
            yield {"summary": chunk["delta"]["message"]["content"]}

    # -- embeddings, rerank ---------------------------------------------------
    async def _text_embedding(self, request: dict[str, Any], ctx: InvokeContext):
        texts = [str(t) for t in request.get("texts") or []]
        started = time.perf_counter()
        data = (await self._post(ctx, "/embeddings", "text-embedding", json={"model": self.endpoint_model(request, "text-embedding"), "input": texts})).json()
        rows = sorted(data.get("data") or [], key=lambda r: r.get("index", 0))
        tokens = int((data.get("usage") or {}).get("total_tokens") or 0)
        yield {"model": request.get("model") or data.get("model"), "embeddings": [r.get("embedding") for r in rows],
               "usage": embedding_usage(tokens, time.perf_counter() - started)}

    async def _multimodal_embedding(self, request: dict[str, Any], ctx: InvokeContext):
        texts = [str(d.get("content", "")) for d in request.get("documents") or [] if isinstance(d, dict)]
        async for item in self._text_embedding({**request, "texts": texts}, ctx):
            yield item

    async def _rerank(self, request: dict[str, Any], ctx: InvokeContext):
        docs = [str(d) for d in request.get("docs") or []]
        body: dict[str, Any] = {"model": self.endpoint_model(request, "rerank"), "query": request.get("query"), "documents": docs}
        if isinstance(request.get("top_n"), int):
            body["top_n"] = request["top_n"]
        data = (await self._post(ctx, "/rerank", "rerank", json=body)).json()
        ranked = []
        for r in data.get("results") or []:
            i = int(r.get("index", 0))
            score = float(r.get("relevance_score", r.get("score", 0.0)))
            threshold = request.get("score_threshold")
            if isinstance(threshold, (int, float)) and score < threshold:
                continue
            ranked.append({"index": i, "text": docs[i] if 0 <= i < len(docs) else "", "score": score})
        yield {"model": request.get("model") or data.get("model"), "docs": ranked}

    async def _multimodal_rerank(self, request: dict[str, Any], ctx: InvokeContext):
        q = request.get("query")
        query = str(q.get("content", "")) if isinstance(q, dict) else str(q or "")
        docs = [str(d.get("content", "")) if isinstance(d, dict) else str(d) for d in request.get("docs") or []]
        async for item in self._rerank({**request, "query": query, "docs": docs}, ctx):
            yield item

    # -- audio, moderation ----------------------------------------------------
    async def _tts(self, request: dict[str, Any], ctx: InvokeContext):
        body = {"model": self.endpoint_model(request, "tts"), "input": request.get("content_text") or "",
                "voice": request.get("voice") or "alloy"}
        async with self.client(ctx).stream("POST", "/audio/speech", json=body) as response:
            if response.status_code >= 400:
                text = (await response.aread()).decode("utf-8", "replace")
                raise BackendError(f"invoke tts model failed: HTTP {response.status_code} from {self.base_url}/audio/speech: {text[:500]}")
            mime = response.headers.get("content-type", "audio/mpeg").split(";")[0]
            async for piece in response.aiter_bytes(8192):
                if piece:
                    yield {"result": piece.hex(), "mime_type": mime}

    async def _speech2text(self, request: dict[str, Any], ctx: InvokeContext):
        try:
            audio = binascii.unhexlify(str(request.get("file") or ""))
        except (binascii.Error, ValueError) as exc:
            raise BackendError(f"invoke speech2text model failed: the file is not hex: {exc}") from None
        response = await self._post(ctx, "/audio/transcriptions", "speech2text",
                                    data={"model": self.endpoint_model(request, "speech2text")},
                                    files={"file": ("audio.mp3", audio, "audio/mpeg")})
        yield {"result": str(response.json().get("text") or "")}

    async def _moderation(self, request: dict[str, Any], ctx: InvokeContext):
        data = (await self._post(ctx, "/moderations", "moderation",
                                 json={"model": self.endpoint_model(request, "moderation"), "input": request.get("text") or ""})).json()
        results = data.get("results") or [{}]
        yield {"result": bool(results[0].get("flagged"))}


def _tool_calls(calls: Any) -> list[dict[str, Any]]:
    out = []
    for c in calls or []:
        if isinstance(c, dict):
            fn = c.get("function") or {}
            out.append({"id": c.get("id") or "", "type": "function",
                        "function": {"name": fn.get("name") or "", "arguments": fn.get("arguments") or ""}})
    return out


def _parse_json(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
