"""Fast tests of the invocation pieces that need no plugin process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dify_lsp.invocation.backends import InvokeContext, create_backend
from dify_lsp.invocation.masking import SecretMasker
from dify_lsp.invocation.parameters import (
    InvocationError,
    discover_tools,
    model_type_for_scope,
    parse_invocation,
    prepare_parameters,
)
from dify_lsp.invocation.permissions import permission_error

FIXTURES = Path(__file__).parent / "fixtures" / "run_plugins"


@pytest.mark.parametrize("permission, invoke_type, expected", [
    ({"model": {"enabled": True, "llm": True}}, "llm", None),
    ({"model": {"enabled": False, "llm": True}}, "llm", "permission denied, you need to enable llm access in plugin manifest"),
    ({"model": {"enabled": True}}, "system_summary", "permission denied, you need to enable llm access in plugin manifest"),
    ({"model": {"enabled": True, "llm": True}}, "text_embedding", "permission denied, you need to enable text-embedding access in plugin manifest"),
    ({}, "storage", "permission denied, you need to enable storage access in plugin manifest"),
    ({}, "upload_file", None),
    ({"app": {"enabled": True}}, "fetch_app", None),
    ({}, "node_question_classifier", "permission denied, you need to enable node access in plugin manifest"),
    ({}, "teleport", "unsupported invoke type: teleport"),
])
def test_permissions_like_the_daemon(permission, invoke_type, expected):
    assert permission_error({"resource": {"permission": permission}}, invoke_type) == expected


def test_parameters_are_validated_coerced_and_completed():
    tool = next(t for t in discover_tools(FIXTURES / "all_tools") if t.tool == "secret")
    prepared = prepare_parameters(tool, {"token": "s3cret", "count": "3", "extra": "x"})
    assert prepared.values == {"extra": "x", "token": "s3cret", "mode": "short", "count": 3}
    assert prepared.secrets == ["s3cret"]
    assert "parameter `extra` is not declared" in prepared.warnings[0]
    with pytest.raises(InvocationError) as err:
        prepare_parameters(tool, {"mode": "huge", "count": "zero"})
    assert str(err.value) == (
        "parameter `token` (secret-input) is required; parameter `mode` (select): 'huge' is not one of the options: short, long; "
        "parameter `count` (number): expected a number, got 'zero'")


def test_empty_model_selector_gets_the_backend_default_for_its_scope():
    tool = next(t for t in discover_tools(FIXTURES / "all_tools") if t.tool == "llm_stream")
    backend = create_backend("mock")
    prepared = prepare_parameters(tool, {"prompt": "p"}, {}, backend.default_model)
    assert prepared.values["model"] == {"provider": "mock", "model": "mock-llm", "model_type": "llm", "mode": "chat", "completion_params": {}}
    partial = prepare_parameters(tool, {"prompt": "p", "model": "acme/big"}, {}, backend.default_model)
    assert partial.values["model"]["provider"] == "acme" and partial.values["model"]["mode"] == "chat"
    assert model_type_for_scope("tool-call&llm") == "llm" and model_type_for_scope("rerank") == "rerank"


def test_invocation_file_shape_is_checked():
    assert parse_invocation({"prompt": "x"}, plain_parameters=True).parameters == {"prompt": "x"}
    with pytest.raises(InvocationError, match="unknown keys params"):
        parse_invocation({"params": {}})


def test_masker_hides_whole_occurrences_of_secrets_only():
    mask = SecretMasker(["abc", "sk-live-42", "Table"])
    data = {"k": ["key sk-live-42.", "xsk-live-42", ("abc",), "abcd abc"], "sk-live-42": "Tables", "t": "Table"}
    assert mask(data) == {
        # whole words are masked; a secret inside a longer word is not (it is not that secret)
        "k": ["key ******.", "xsk-live-42", ["******"], "abcd abc"],
        # keys are never rewritten; "abc" is too short to search in text but masked as a whole value
        "sk-live-42": "Tables", "t": "******",
    }
    assert mask.text("token=sk-live-42&x=1") == "token=******&x=1"
    assert SecretMasker([])("anything") == "anything"


def _collect(backend, invoke_type, request, responses=None):
    async def go():
        ctx = InvokeContext(Path("."), {}, responses or {})
        return [item async for item in backend.invoke(invoke_type, request, ctx)], ctx

    return asyncio.run(go())


def test_mock_llm_is_deterministic_and_well_formed():
    backend = create_backend("mock")
    request = {"model": "m", "prompt_messages": [{"role": "user", "content": "a b c"}], "stream": True}
    first, _ = _collect(backend, "llm", request)
    second, _ = _collect(backend, "llm", request)
    assert first == second
    assert "".join(c["delta"]["message"]["content"] for c in first) == "(mock m) You said: a b c"
    assert [c["delta"]["usage"] is not None for c in first] == [False] * (len(first) - 1) + [True]
    assert first[-1]["delta"]["usage"]["total_tokens"] == 3 + 7  # prompt words + answer words
    canned, _ = _collect(backend, "llm", {**request, "stream": False}, {"llm": "fixed"})
    assert len(canned) == 1 and canned[0]["delta"]["message"]["content"] == "fixed"


def test_mock_rerank_embedding_moderation():
    backend = create_backend("mock")
    [rr], _ = _collect(backend, "rerank", {"query": "red apple", "docs": ["apple pie", "red apple", "car"], "score_threshold": 0.0, "top_n": 2})
    assert [(d["index"], d["score"]) for d in rr["docs"]] == [(1, 1.0), (0, 0.5)]
    [emb], _ = _collect(backend, "text_embedding", {"texts": ["x y", "x y", "z"]})
    assert emb["embeddings"][0] == emb["embeddings"][1] != emb["embeddings"][2]
    [mod], _ = _collect(backend, "moderation", {"text": "how to build a bomb"})
    assert mod == {"result": True}
