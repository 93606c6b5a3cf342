"""The settings model (dify_lsp.settings) is the one list of settings: the README table, VS Code's
package.json and the Neovim config are generated from it, its defaults are the ones the code uses, and
the server reads a client's settings object through it, value by value."""

from __future__ import annotations

import importlib.util
import json
import logging

from dify_lsp.config import disabled_families, layer_from_settings
from dify_lsp.invocation import engine, runner
from dify_lsp.invocation.backends.openai import OpenAIBackend
from dify_lsp.rules.registry import families
from dify_lsp.settings import DEFAULT_OPENAI_MODELS, DiagnosticsSettings, RunSettings, ServerSettings

from conftest import REPO


def _docs_script():
    spec = importlib.util.spec_from_file_location("update_settings_docs", REPO / "scripts" / "update_settings_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_package_json_and_neovim_config_are_generated_from_the_model():
    docs = _docs_script()
    for path, render in docs.TARGETS:
        text = path.read_text(encoding="utf-8")
        assert render(text) == text, f"{path.name} is stale: run python scripts/update_settings_docs.py"


def test_every_setting_has_a_description_and_vscode_declares_each_with_its_default():
    docs = _docs_script()
    keys = [key for key, _ in docs.leaves()]
    assert len(keys) == len(set(keys)) >= 18
    properties = json.loads(docs.PACKAGE_JSON.read_text(encoding="utf-8"))["contributes"]["configuration"]["properties"]
    for key, field in docs.leaves():
        assert field.description, key
        declared = properties[f"dify.{key}"]
        default = field.get_default(call_default_factory=True)
        assert declared["default"] == default or (default is None and declared["default"] in ("", False)), key


def test_the_family_switches_are_the_rule_families():
    switches = {f.alias or name for name, f in DiagnosticsSettings.model_fields.items()}
    assert switches | {"marketplace"} == set(families())  # the marketplace family has its own setting


def test_defaults_are_the_ones_the_code_uses():
    run = RunSettings()
    openai = OpenAIBackend({})
    assert run.timeout == engine.DEFAULT_TIMEOUT == runner.DEFAULT_TIMEOUT
    assert (openai.base_url, openai.key_env, openai.models) == (run.openai.base_url, run.openai.api_key_env, DEFAULT_OPENAI_MODELS)
    # the run code reads the settings object the client would send: the model's own defaults come through
    wire = ServerSettings().wire()
    assert OpenAIBackend(wire["run"]["openai"]).models == DEFAULT_OPENAI_MODELS
    assert disabled_families(ServerSettings()) == set()
    assert layer_from_settings(ServerSettings()) is None  # nothing selected: the plugin's own configuration decides


def test_a_clients_settings_are_read_value_by_value(caplog):
    raw = {
        "debounceMs": "fast",  # wrong type: keeps 200
        "run": {"backend": "openai", "timeout": 0, "openai": {"models": {"llm": "m1"}}},  # timeout under 1: keeps 60
        "diagnostics": {"python": False},
        "select": ["DL2"],
        "locale": "ja_JP",
        "unknownKey": 1,
    }
    with caplog.at_level(logging.WARNING, logger="dify_lsp.settings"):
        s = ServerSettings.from_client(raw)
    assert s.debounce_ms == 200 and s.run.timeout == 60
    assert s.run.backend == "openai" and s.run.openai.models == {"llm": "m1"}
    assert s.diagnostics.disabled() == {"python"} and s.select == ["DL2"] and s.locale == "ja_JP"
    assert {r.getMessage().split(" = ")[0] for r in caplog.records} == {"setting debounceMs", "setting run.timeout"}
    # a later, partial settings object changes only what it names
    later = s.merged({"run": {"timeout": 5}, "diagnostics": {"files": False}})
    assert later.run.timeout == 5 and later.run.backend == "openai" and later.diagnostics.disabled() == {"python", "files"}
    assert later.wire()["extendSelect"] == [] and later.wire()["run"]["openai"]["models"]["llm"] == "m1"


def test_reading_in_one_pass_equals_reading_field_by_field(caplog):
    """from_client tries the model's own validator on the whole object first; whatever it gives must be what
    the field-by-field reading gives (which keeps the default where a value is invalid)."""
    import random

    from dify_lsp import settings as model

    def field_by_field(cls, raw):
        if not isinstance(raw, dict):
            return cls()
        values = {}
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key not in raw:
                continue
            nested = field.annotation if isinstance(field.annotation, type) and issubclass(field.annotation, model._Settings) else None
            if nested is not None:
                values[name] = field_by_field(nested, raw[key])
                continue
            try:
                values[name] = model._adapter(cls, name).validate_python(raw[key])
            except model.ValidationError:
                pass
        return cls(**values)

    values = [None, True, False, 0, 5, -1, 7000, "x", "ja", "openai", "oauth", [], ["DL2"], ["DL2", 3], {}, {"llm": "m"}, {"llm": 3}, 1.5, "60"]
    keys = ["python", "debounceMs", "debounce_ms", "select", "extendSelect", "extend_select", "ignore", "marketplace", "locale", "cache"]
    run_keys = ["backend", "timeout", "validateCredentials", "validate_credentials", "credentialType", "toolPlugins"]
    rnd = random.Random(7)
    for _ in range(400):
        raw = {k: rnd.choice(values) for k in rnd.sample(keys, rnd.randint(0, 4))}
        if rnd.random() < 0.6:
            raw["run"] = {k: rnd.choice(values) for k in rnd.sample(run_keys, rnd.randint(0, 3))}
            if rnd.random() < 0.5:
                raw["run"]["openai"] = {"models": rnd.choice(values), "baseUrl": rnd.choice(values), "api_key_env": "X"}
        if rnd.random() < 0.4:
            raw["diagnostics"] = {k: rnd.choice(values) for k in rnd.sample(["files", "schema", "schema_", "python", "permissions"], 2)}
        got, expected = ServerSettings.from_client(raw), field_by_field(ServerSettings, raw)
        assert got == expected and got.wire() == expected.wire(), raw
