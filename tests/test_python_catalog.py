"""The session.* catalog against the real SDK (the dify-plugin 0.10.2 venv the suite builds), so it cannot drift."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from dify_lsp.invocation.permissions import permission_error
from dify_lsp.sdk import catalog
from dify_lsp.sdk.permissions import MODEL_TYPE_OF_INVOKE
from invocation_helpers import sdk_python


# Runs inside the SDK's interpreter: describes the real classes as JSON.
PROBE = r'''
import importlib, inspect, json, re, sys
spec = json.loads(sys.stdin.read())
out = {"methods": {}, "attrs": {}, "configs": {}, "invoke_types": [], "version": None, "wires": {}}
from importlib.metadata import version
out["version"] = version("dify_plugin")
from dify_plugin.core.entities.invocation import InvokeType
out["invoke_types"] = [t.value for t in InvokeType]

def load(qual):
    parts = qual.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(qual)

KINDS = {inspect.Parameter.POSITIONAL_OR_KEYWORD: "pk", inspect.Parameter.KEYWORD_ONLY: "kw",
         inspect.Parameter.POSITIONAL_ONLY: "po", inspect.Parameter.VAR_POSITIONAL: "args", inspect.Parameter.VAR_KEYWORD: "kwargs"}
for qual in spec["methods"]:
    fn = load(qual)
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    out["methods"][qual] = [[p.name, KINDS[p.kind], None if p.default is inspect.Parameter.empty else repr(p.default)] for p in params]
    try:
        src = inspect.getsource(fn)
    except OSError:
        src = ""
    found = re.findall(r"InvokeType\.(\w+)", src)
    out["wires"][qual] = [getattr(InvokeType, n).value for n in found]

from dify_plugin.core.runtime import Session
session = Session.empty_session()
def public_attrs(obj):
    return sorted(k for k in vars(obj) if not k.startswith("_"))
objects = {"Session": session, "ModelInvocations": session.model, "AppInvocations": session.app,
           "WorkflowNodeInvocations": session.workflow_node}
for name, obj in objects.items():
    out["attrs"][name] = {k: type(getattr(obj, k)).__name__ for k in public_attrs(obj)}
for name in spec["invocation_types"]:
    cls = load(name)
    out["attrs"][name] = public_attrs(cls(None))
    out["methods_of"] = out.get("methods_of", {})
    out["methods_of"][name] = sorted(k for k, v in inspect.getmembers(cls) if callable(v) and not k.startswith("_"))
for qual in spec["configs"]:
    cls = load(qual)
    out["configs"][qual] = {n: f.is_required() for n, f in cls.model_fields.items()}
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def real_sdk() -> dict:
    python = os.environ.get("DIFY_LSP_SDK_PYTHON") or str(sdk_python())
    spec = {
        "methods": [m.sdk for _, _, m in catalog.walk_methods()],
        "invocation_types": [t.sdk for t in catalog.TYPES.values() if t.attrs and t.attrs[0].name == "session"],
        "configs": [f"{c.module}.{c.name}" for c in catalog.CONFIG_CLASSES.values()],
    }
    proc = subprocess.run([python, "-c", PROBE], input=json.dumps(spec), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_sdk_version_matches(real_sdk):
    assert real_sdk["version"] == catalog.SDK_VERSION


def test_every_method_has_the_real_parameters(real_sdk):
    for _, _, method in catalog.walk_methods():
        real = real_sdk["methods"][method.sdk]
        assert [p[0] for p in real] == [p.name for p in method.params], method.sdk
        for (name, kind, default), param in zip(real, method.params):
            assert kind == ("kw" if param.keyword_only else "pk"), (method.sdk, name)
            assert (default is None) == param.required, (method.sdk, name)
            if default is not None and not default.startswith("<"):
                # enum members repr as <EmbeddingInputType.QUERY: 'query'>; literals must match exactly
                assert default.replace("'", '"') == param.default.replace("'", '"'), (method.sdk, name, default)


def test_wire_types_match_the_sdk_source(real_sdk):
    assert set(catalog.WIRE_PERMISSIONS) == set(real_sdk["invoke_types"])
    # the model invoke types (one table, read by the rules and the openai backend) are the SDK's own names
    assert set(MODEL_TYPE_OF_INVOKE) <= set(real_sdk["invoke_types"]) and "system_summary" in MODEL_TYPE_OF_INVOKE
    for _, _, method in catalog.walk_methods():
        found = real_sdk["wires"][method.sdk]
        if found:  # methods that delegate (invoke_builtin_tool -> invoke, fetch_app -> get) name none
            assert set(found) == {method.wire}, method.sdk
        elif method.wire is not None:
            assert method.name in ("invoke_builtin_tool", "invoke_workflow_tool", "invoke_api_tool", "fetch_app")


def test_namespace_attributes_match(real_sdk):
    for type_name, real in real_sdk["attrs"].items():
        t = next(t for t in catalog.TYPES.values() if t.name == type_name or t.sdk == type_name)
        assert sorted(a.name for a in t.attrs) == sorted(real), type_name
        if isinstance(real, dict):
            for attr in t.attrs:
                if attr.type in catalog.TYPES:
                    assert real[attr.name] == attr.type, (type_name, attr.name)
    for cls, methods in real_sdk["methods_of"].items():
        t = next(t for t in catalog.TYPES.values() if t.sdk == cls)
        assert sorted(m.name for m in t.methods) == methods, cls


def test_config_classes_match(real_sdk):
    for c in catalog.CONFIG_CLASSES.values():
        real = real_sdk["configs"][f"{c.module}.{c.name}"]
        assert {p.name: p.required for p in c.fields} == real, c.name


# The daemon's permission check per invoke type (dify-plugin-daemon, internal/core/io_tunnel/backwards_invocation/
# task.go and the AllowInvoke* methods of pkg/entities/plugin_entities/plugin_declaration.go), written out here
# independently of dify_lsp.sdk.permissions: the flags that must all be true, and the word of its error text.
DAEMON_PERMISSIONS = {
    "tool": (("tool.enabled",), "tool"),
    "llm": (("model.enabled", "model.llm"), "llm"),
    "llm_structured_output": (("model.enabled", "model.llm"), "llm"),
    "system_summary": (("model.enabled", "model.llm"), "llm"),
    "text_embedding": (("model.enabled", "model.text_embedding"), "text-embedding"),
    "multimodal_embedding": (("model.enabled", "model.text_embedding"), "text-embedding"),
    "rerank": (("model.enabled", "model.rerank"), "rerank"),
    "multimodal_rerank": (("model.enabled", "model.rerank"), "rerank"),
    "tts": (("model.enabled", "model.tts"), "tts"),
    "speech2text": (("model.enabled", "model.speech2text"), "speech2text"),
    "moderation": (("model.enabled", "model.moderation"), "moderation"),
    "node_parameter_extractor": (("node.enabled",), "node"),
    "node_question_classifier": (("node.enabled",), "node"),
    "app": (("app.enabled",), "app"),
    "fetch_app": (("app.enabled",), "app"),
    "storage": (("storage.enabled",), "storage"),
    "upload_file": ((), None),  # always allowed
}


def test_permissions_agree_with_the_daemon_table(real_sdk):
    assert set(DAEMON_PERMISSIONS) == set(real_sdk["invoke_types"])
    assert catalog.WIRE_PERMISSIONS == {wire: keys for wire, (keys, _) in DAEMON_PERMISSIONS.items()}
    for wire, (keys, word) in DAEMON_PERMISSIONS.items():
        granted: dict = {}
        for key in keys:
            group, flag = key.split(".")
            granted.setdefault(group, {})[flag] = True
        assert permission_error({"resource": {"permission": granted}}, wire) is None, wire
        assert (permission_error({"resource": {"permission": {}}}, wire) is None) == (not keys), wire
        for missing in keys:
            group, flag = missing.split(".")
            partial = json.loads(json.dumps(granted))
            partial[group][flag] = False
            assert permission_error({"resource": {"permission": partial}}, wire) == (
                f"permission denied, you need to enable {word} access in plugin manifest"
            ), (wire, missing)


def test_navigation_and_docs():
    res, n = catalog.resolve(("model", "rerank", "invoke"))
    assert n == 3 and res is not None and res.is_method and res.member.wire == "rerank"
    assert catalog.resolve(("model", "embedding"))[1] == 1
    text = catalog.member_markdown(("model", "tts", "invoke"), res.owner, catalog.resolve(("model", "tts", "invoke"))[0].member)
    assert "audio byte stream" in text and "model.tts" in text
    res, _ = catalog.resolve(("model", "moderation", "invoke"))
    assert "True when the text is sensitive" in res.member.doc
    res, _ = catalog.resolve(("model", "summary", "invoke"))
    assert "system model" in res.member.doc and "unchanged" in res.member.doc
    assert catalog.resolve(("model", "text_embedding", "invoke_multimodal"))[0].member.since == "0.7.0b1"  # the first release with it (pre-releases count: dify_lsp.sdk.releases)
