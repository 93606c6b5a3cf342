"""The offline, deterministic backend (the default).

Every model type gets a well-formed answer computed from the request alone, so a
run is repeatable and needs no network:

- llm / llm_structured_output: echoes the last user message (``(mock <model>) You
  said: ...``), streamed word by word, the last chunk carrying usage and
  ``finish_reason``; a blocking call gets one chunk; structured output gets an
  object built from the JSON schema.  ``responses.llm`` (text) overrides the answer.
- system_summary: the text cut to 200 characters.
- text_embedding / multimodal_embedding: hashed bag-of-words vectors of
  :data:`EMBEDDING_DIM` floats (unit length), one per input.
- rerank / multimodal_rerank: word overlap between query and document.
- tts: a WAV of silence (50 ms per word); speech2text: a transcript naming the size;
  moderation: flagged when the text has a word of :data:`FLAGGED_WORDS`
  (``responses.moderation`` overrides).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import wave
from typing import Any, AsyncIterator

from dify_lsp.invocation.backends.base import Backend, BackendError, InvokeContext, model_selector_value
from dify_lsp.invocation.backends.platform import Platform

EMBEDDING_DIM = 128
FLAGGED_WORDS = frozenset({"kill", "bomb", "terrorist", "suicide"})
_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def message_text(content: Any) -> str | None:
    """The text of a prompt message's content (str, list of parts, or None)."""
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("data", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content)


def null_content_warning(request: dict[str, Any]) -> str | None:
    for i, m in enumerate(request.get("prompt_messages") or []):
        if isinstance(m, dict) and m.get("content") is None and m.get("role") in ("user", "system"):
            return (
                f"llm request: prompt_messages[{i}] ({m.get('role')}) has content null - the tool passed None, "
                "e.g. tool_parameters.get() of a parameter its tool YAML does not declare"
            )
    return None


def llm_usage(prompt_tokens: int, completion_tokens: int, latency: float = 0.0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens, "prompt_unit_price": 0, "prompt_price_unit": 0, "prompt_price": 0,
        "completion_tokens": completion_tokens, "completion_unit_price": 0, "completion_price_unit": 0,
        "completion_price": 0, "total_tokens": prompt_tokens + completion_tokens, "total_price": 0,
        "currency": "USD", "latency": latency,
    }


def embedding_usage(tokens: int, latency: float = 0.0) -> dict[str, Any]:
    return {"tokens": tokens, "total_tokens": tokens, "unit_price": 0, "price_unit": 0, "total_price": 0,
            "currency": "USD", "latency": latency}


def llm_chunk(model: str, index: int, content: str, usage: dict | None = None, finish: str | None = None,
              tool_calls: list | None = None) -> dict[str, Any]:
    return {
        "model": model, "prompt_messages": [], "system_fingerprint": None,
        "delta": {"index": index, "message": {"role": "assistant", "content": content, "name": None,
                                              "tool_calls": tool_calls or []},
                  "usage": usage, "finish_reason": finish},
    }


def hashed_embedding(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    vec = [0.0] * dim
    for w in words(text) or [""]:
        h = hashlib.sha256(w.encode("utf-8")).digest()
        vec[int.from_bytes(h[:4], "big") % dim] += 1.0 if h[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [round(v / norm, 6) for v in vec]


def overlap_score(query: str, doc: str) -> float:
    q = set(words(query))
    if not q:
        return 0.0
    return round(len(q & set(words(doc))) / len(q), 6)


_FORMAT_SAMPLES = {"uri": "https://example.com/mock", "url": "https://example.com/mock", "email": "mock@example.com",
                   "date-time": "2025-01-01T00:00:00Z", "date": "2025-01-01", "time": "00:00:00", "uuid":
                   "00000000-0000-4000-8000-000000000000", "ipv4": "127.0.0.1", "hostname": "example.com"}


def sample_from_schema(schema: Any) -> Any:
    """A value that satisfies a (simple) JSON schema: defaults, consts, enums, then per-type samples within
    the schema's bounds (minimum/maximum, minLength/maxLength, minItems, formats)."""
    if not isinstance(schema, dict):
        return None
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return sample_from_schema(schema[key][0])
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t == "object" or "properties" in schema:
        return {k: sample_from_schema(v) for k, v in (schema.get("properties") or {}).items()}
    if t == "array":
        count = max(1, int(schema.get("minItems") or 0))
        if isinstance(schema.get("maxItems"), int):
            count = min(count, schema["maxItems"])
        return [sample_from_schema(schema.get("items") or {"type": "string"}) for _ in range(count)]
    if t in ("integer", "number"):
        value: float = 0
        if isinstance(schema.get("minimum"), (int, float)):
            value = max(value, schema["minimum"])
        if isinstance(schema.get("exclusiveMinimum"), (int, float)) and value <= schema["exclusiveMinimum"]:
            value = schema["exclusiveMinimum"] + 1
        if isinstance(schema.get("maximum"), (int, float)):
            value = min(value, schema["maximum"])
        if isinstance(schema.get("exclusiveMaximum"), (int, float)) and value >= schema["exclusiveMaximum"]:
            value = schema["exclusiveMaximum"] - 1
        return int(value) if t == "integer" else value
    if t == "string" or t is None:
        text = _FORMAT_SAMPLES.get(str(schema.get("format")), "mock")
        if isinstance(schema.get("minLength"), int) and len(text) < schema["minLength"]:
            text = text + "x" * (schema["minLength"] - len(text))
        if isinstance(schema.get("maxLength"), int):
            text = text[: schema["maxLength"]]
        return text
    return {"boolean": False, "null": None}.get(t, "mock")


def tool_results(request: dict[str, Any]) -> list[str]:
    """The contents of the tool messages after the last user message (the results of the calls it asked for)."""
    messages = [m for m in request.get("prompt_messages") or [] if isinstance(m, dict)]
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return [message_text(m.get("content")) or "" for m in messages[last_user + 1:] if m.get("role") == "tool"]


def tool_call_for(request: dict[str, Any]) -> dict[str, Any] | None:
    """A call of one of the request's tools, with arguments valid against its JSON schema, while no tool
    result follows the last user message; None once one does (then the model answers)."""
    tools = [t for t in request.get("tools") or [] if isinstance(t, dict) and t.get("name")]
    if not tools or tool_results(request):
        return None
    users = [m for m in request.get("prompt_messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    said = set(words(message_text(users[-1].get("content")) or "")) if users else set()
    tool = next((t for t in tools if str(t["name"]).lower() in said), tools[0])
    schema = tool.get("parameters") if isinstance(tool.get("parameters"), dict) else {}
    arguments = sample_from_schema({"type": "object", **schema}) or {}
    call_id = "call_" + hashlib.sha256(json.dumps([tool["name"], arguments], sort_keys=True).encode()).hexdigest()[:12]
    return {"id": call_id, "type": "function",
            "function": {"name": tool["name"], "arguments": json.dumps(arguments, ensure_ascii=False)}}


def silent_wav(seconds: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * max(1, int(8000 * seconds)))
    return buf.getvalue()


class MockBackend(Backend):
    name = "mock"

    def __init__(self, platform: Platform | None = None) -> None:
        self.platform = platform

    def default_model(self, model_type: str) -> dict[str, Any]:
        return model_selector_value("mock", f"mock-{model_type}", model_type)

    async def invoke_model(self, invoke_type: str, request: dict[str, Any], ctx: InvokeContext) -> AsyncIterator[dict[str, Any]]:
        handler = getattr(self, "_" + invoke_type, None)
        if handler is None:
            raise BackendError(f"unsupported invoke type: {invoke_type}")
        for item in handler(request, ctx):
            yield item

    # -- llm ------------------------------------------------------------------
    def _answer(self, request: dict[str, Any], ctx: InvokeContext) -> str:
        warning = null_content_warning(request)
        if warning and warning not in ctx.warnings:
            ctx.warnings.append(warning)
        canned = ctx.responses.get("llm") if ctx.responses else None
        if isinstance(canned, str):
            return canned
        users = [m for m in request.get("prompt_messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
        model = request.get("model") or "mock"
        if not users:
            return f"(mock {model}) no user message was given"
        text = message_text(users[-1].get("content"))
        if text is None:
            return f"(mock {model}) the user message has no content (None)"
        results = tool_results(request)
        if results:
            return f"(mock {model}) You said: {text}. The tool answered: {results[-1]}"
        return f"(mock {model}) You said: {text}"

    def _prompt_tokens(self, request: dict[str, Any]) -> int:
        return sum(len(words(message_text(m.get("content")) or "")) for m in request.get("prompt_messages") or [] if isinstance(m, dict))

    def _llm(self, request: dict[str, Any], ctx: InvokeContext, extra_last: dict | None = None, answer: str | None = None):
        model = str(request.get("model") or "mock")
        if answer is None:
            call = tool_call_for(request)
            if call is not None:
                # as the daemon's mock does: given tools and no tool result yet, call a tool with valid arguments
                usage = llm_usage(self._prompt_tokens(request), 0)
                yield llm_chunk(model, 0, "", usage, "tool_calls", [call])
                return
            answer = self._answer(request, ctx)
        usage = llm_usage(self._prompt_tokens(request), len(words(answer)))
        if request.get("stream") is False:
            yield {**llm_chunk(model, 0, answer, usage, "stop"), **(extra_last or {})}
            return
        parts = re.findall(r"\S+\s*", answer) or [""]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            chunk = llm_chunk(model, i, part, usage if last else None, "stop" if last else None)
            yield {**chunk, **(extra_last or {})} if last else chunk

    def _llm_structured_output(self, request: dict[str, Any], ctx: InvokeContext):
        canned = ctx.responses.get("llm_structured_output") if ctx.responses else None
        structured = canned if isinstance(canned, dict) else sample_from_schema(request.get("structured_output_schema") or {})
        self._answer(request, ctx)  # for the null-content warning
        yield from self._llm(request, ctx, {"structured_output": structured}, json.dumps(structured, ensure_ascii=False))

    def _system_summary(self, request: dict[str, Any], ctx: InvokeContext):
        text = str(request.get("text") or "")
        yield {"summary": text if len(text) <= 200 else text[:199] + "…"}

    # -- embeddings, rerank ---------------------------------------------------
    def _text_embedding(self, request: dict[str, Any], ctx: InvokeContext):
        texts = [str(t) for t in request.get("texts") or []]
        yield {"model": request.get("model") or "mock-text-embedding", "embeddings": [hashed_embedding(t) for t in texts],
               "usage": embedding_usage(sum(len(words(t)) for t in texts))}

    def _multimodal_embedding(self, request: dict[str, Any], ctx: InvokeContext):
        docs = [d for d in request.get("documents") or [] if isinstance(d, dict)]
        texts = [str(d.get("content", "")) for d in docs]
        yield {"model": request.get("model") or "mock-text-embedding", "embeddings": [hashed_embedding(t) for t in texts],
               "usage": embedding_usage(sum(len(words(t)) for t, d in zip(texts, docs) if d.get("content_type") == "text"))}

    def _ranked(self, query: str, docs: list[str], request: dict[str, Any]) -> list[dict[str, Any]]:
        scored = [{"index": i, "text": d, "score": overlap_score(query, d)} for i, d in enumerate(docs)]
        scored.sort(key=lambda r: (-r["score"], r["index"]))
        threshold = request.get("score_threshold")
        if isinstance(threshold, (int, float)):
            scored = [r for r in scored if r["score"] >= threshold]
        top_n = request.get("top_n")
        if isinstance(top_n, int) and top_n > 0:
            scored = scored[:top_n]
        return scored

    def _rerank(self, request: dict[str, Any], ctx: InvokeContext):
        docs = [str(d) for d in request.get("docs") or []]
        yield {"model": request.get("model") or "mock-rerank", "docs": self._ranked(str(request.get("query") or ""), docs, request)}

    def _multimodal_rerank(self, request: dict[str, Any], ctx: InvokeContext):
        q = request.get("query")
        query = str(q.get("content", "")) if isinstance(q, dict) and q.get("content_type") == "text" else ""
        docs = [str(d.get("content", "")) if isinstance(d, dict) else str(d) for d in request.get("docs") or []]
        yield {"model": request.get("model") or "mock-rerank", "docs": self._ranked(query, docs, request)}

    # -- audio, moderation ----------------------------------------------------
    def _tts(self, request: dict[str, Any], ctx: InvokeContext):
        audio = silent_wav(0.05 * max(1, len(words(str(request.get("content_text") or "")))))
        for start in range(0, len(audio), 4096):
            yield {"result": audio[start:start + 4096].hex(), "mime_type": "audio/wav"}

    def _speech2text(self, request: dict[str, Any], ctx: InvokeContext):
        size = len(str(request.get("file") or "")) // 2
        yield {"result": f"mock transcript of {size} bytes of audio"}

    def _moderation(self, request: dict[str, Any], ctx: InvokeContext):
        canned = ctx.responses.get("moderation") if ctx.responses else None
        if isinstance(canned, bool):
            yield {"result": canned}
            return
        yield {"result": bool(FLAGGED_WORDS & set(words(str(request.get("text") or ""))))}

    async def aclose(self) -> None:
        if self.platform is not None:
            self.platform.close()
