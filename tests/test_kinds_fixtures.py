"""The real-style fixtures of every kind load in the real SDK (its whole PluginRegistration:
configuration, every class loaded from its source, assets) and `dify-lsp check` finds nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from invocation_helpers import sdk_python

KINDS = Path(__file__).parent / "fixtures" / "kinds"

REGISTER = """
import sys
sys.path.insert(0, ".")
from dify_plugin.config.config import DifyPluginEnv
from dify_plugin.core.plugin_registration import PluginRegistration
r = PluginRegistration(DifyPluginEnv())
print(len(r.tools_mapping), len(r.models_mapping), len(list(r.endpoints.iter_rules())),
      len(r.agent_strategies_mapping), len(r.datasource_mapping), len(r.triggers_configuration))
"""

EXPECTED = {  # tools, model providers, endpoint routes, agent providers, datasource providers, trigger providers
    "model_provider": "0 1 0 0 0 0",
    "endpoint": "0 0 2 0 0 0",
    "agent_strategy": "0 0 0 1 0 0",
    "datasource": "0 0 0 0 1 0",
    "trigger": "0 0 0 0 0 1",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_fixture_registers_in_the_sdk(kind: str):
    run = subprocess.run([str(sdk_python()), "-c", REGISTER], cwd=KINDS / kind, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[-2] == EXPECTED[kind]


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_fixture_checks_clean_with_the_cli(kind: str):
    run = subprocess.run([sys.executable, "-m", "dify_lsp", "check", str(KINDS / kind)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no problems" in run.stdout + run.stderr
