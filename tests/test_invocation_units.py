"""Fast tests of the invocation pieces that need no plugin process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dify_lsp.invocation.backends import InvokeContext, create_backend
from dify_lsp.invocation.engine import blob_file_info
from dify_lsp.invocation.fileserver import FileServer
from dify_lsp.invocation.masking import SecretMasker
from dify_lsp.invocation.parameters import (
    InvocationError,
    MissingCredentialsError,
    discover_tools,
    parse_invocation,
)
from dify_lsp.invocation.forms import LocalFile, model_type_for_scope
from dify_lsp.invocation.permissions import permission_error

FIXTURES = Path(__file__).parent / "fixtures" / "run_plugins"


class Prepared:
    """What the one preparation path (kinds.prepare) made of a tool run's inputs."""

    def __init__(self, prepared) -> None:
        self.values = prepared.data.get("tool_parameters") or {}
        self.credentials = prepared.data.get("credentials") or {}
        self.secrets = prepared.secrets
        self.warnings = prepared.warnings


def prepare_tool(plugin: str, tool: str, parameters=None, credentials=None, credential_type="api-key",
                 default_model=None, file_base=None, models=None) -> Prepared:
    from dify_lsp.invocation import forms
    from dify_lsp.invocation.kinds import prepare
    from dify_lsp.invocation.parameters import InvocationFile, read_plugin
    from dify_lsp.invocation.request import RunRequest

    root = (FIXTURES / plugin).resolve()
    request = RunRequest(root, kind="tool", target=tool, parameters=dict(parameters or {}),
                         credentials=dict(credentials or {}), credential_type=credential_type)
    conv = forms.Converters(default_model=default_model, file_base=file_base)
    return Prepared(prepare(request, read_plugin(root), InvocationFile(models=dict(models or {})), conv))


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
    prepared = prepare_tool("all_tools", "secret", {"token": "s3cret", "count": "3", "extra": "x"})
    assert prepared.values == {"extra": "x", "token": "s3cret", "mode": "short", "count": 3}
    assert prepared.secrets == ["s3cret"]
    assert "parameter `extra` is not declared" in prepared.warnings[0]
    with pytest.raises(InvocationError) as err:
        prepare_tool("all_tools", "secret", {"mode": "huge", "count": "zero"})
    assert str(err.value) == (
        "parameter `mode` (select): 'huge' is not one of the options: short, long; "
        "parameter `count` (number): expected a number, got 'zero'")
    with pytest.raises(InvocationError, match=r"missing required parameters: `token` \(secret-input\)"):
        prepare_tool("all_tools", "secret", {})


def test_empty_model_selector_gets_the_backend_default_for_its_scope():
    backend = create_backend("mock")
    prepared = prepare_tool("all_tools", "llm_stream", {"prompt": "p"}, default_model=backend.default_model)
    assert prepared.values["model"] == {"provider": "mock", "model": "mock-llm", "model_type": "llm", "mode": "chat", "completion_params": {}}
    partial = prepare_tool("all_tools", "llm_stream", {"prompt": "p", "model": "acme/big"},
                           default_model=backend.default_model)
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


def test_tools_are_read_through_the_plugin_index():
    tools = discover_tools((FIXTURES / "uv_project").resolve())
    assert [(t.provider, t.tool) for t in tools] == [
        ("files", "sizes"), ("files", "describe"), ("files", "big_blob"), ("files", "grandchild"), ("files", "echo")]
    echo = tools[-1]
    assert echo.python_path == (FIXTURES / "uv_project" / "tools" / "echo.py").resolve()
    assert list(echo.credentials_schema) == ["api_key", "region"]


def test_credentials_defaults_required_undeclared():
    with pytest.raises(MissingCredentialsError) as info:
        prepare_tool("uv_project", "echo", {})
    assert info.value.missing == [{"name": "api_key", "label": "API key", "type": "secret-input", "secret": True,
                                   "argument": "credentials"}]
    prepared = prepare_tool("uv_project", "echo", {}, {"api_key": "k-123456", "other": "x"})
    assert prepared.credentials == {"api_key": "k-123456", "other": "x", "region": "us-east"}
    assert sorted(set(prepared.secrets)) == ["k-123456", "x"]  # region is a text-input: not a secret; undeclared counts as one
    assert len(prepared.warnings) == 1 and "credential `other` is not declared in files.yaml" in prepared.warnings[0]
    assert prepare_tool("uv_project", "echo", {}, credential_type="oauth2").credentials == {"region": "us-east"}


def test_file_parameters_take_local_paths(tmp_path, monkeypatch):
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "b.txt").write_text("y")
    monkeypatch.chdir(tmp_path)
    prepared = prepare_tool("uv_project", "describe", {"image": "a.png", "attachments": ["a.png", str(tmp_path / "b.txt")]},
                            {"api_key": "k"})
    assert prepared.values["image"] == LocalFile((tmp_path / "a.png").resolve())
    assert [f.path.name for f in prepared.values["attachments"]] == ["a.png", "b.txt"]
    # a relative path that is not in the working directory is looked up under file_base (the plugin root)
    monkeypatch.chdir(FIXTURES)
    assert prepare_tool("uv_project", "describe", {"image": "a.png"}, {"api_key": "k"},
                        file_base=tmp_path).values["image"].path.name == "a.png"
    with pytest.raises(InvocationError, match=r"parameter `image` \(file\): 'nope.png' is not a file"):
        prepare_tool("uv_project", "describe", {"image": "nope.png"}, {"api_key": "k"})
    with pytest.raises(InvocationError, match="takes one file"):
        prepare_tool("uv_project", "describe", {"image": [str(tmp_path / "a.png")]}, {"api_key": "k"})


def test_file_server_serves_only_registered_files_on_loopback(tmp_path):
    import httpx

    png = tmp_path / "red.png"
    png.write_bytes(b"\x89PNG fake")
    with FileServer() as files:
        obj = files.dify_file(png)
        assert obj == {"dify_model_identity": "__dify__file__", "url": obj["url"], "mime_type": "image/png",
                       "filename": "red.png", "extension": ".png", "size": 9, "type": "image"}
        assert obj["url"].startswith("http://127.0.0.1:") and len(obj["url"].split("/")[4]) >= 40
        got = httpx.get(obj["url"], trust_env=False)
        assert got.status_code == 200 and got.content == png.read_bytes()
        assert got.headers["content-type"] == "image/png"
        assert httpx.get(files.base_url + "/files/red.png", trust_env=False).status_code == 404
        guessed = obj["url"].rsplit("/", 2)[0] + "/x/red.png"
        assert httpx.get(guessed, trust_env=False).status_code == 404
        assert files.local_path(obj["url"]) == png
    with pytest.raises(httpx.TransportError):
        httpx.get(obj["url"], trust_env=False, timeout=2)


def test_blob_names_come_from_meta_or_mime_type():
    assert blob_file_info({"id": "abcdef123", "meta": {"mime_type": "image/png"}}, 5) == {
        "filename": "blob-abcdef12.png", "mime_type": "image/png", "extension": ".png", "size": 5, "type": "image"}
    named = blob_file_info({"id": "1", "meta": {"mime_type": "text/csv", "filename": "../../etc/table.csv"}}, 3)
    assert named["filename"] == "table.csv" and named["type"] == "document"
    assert blob_file_info({"id": "1"}, 0)["filename"] == "blob-1.bin"
