"""`dify-lsp run` on a real-style plugin (pyproject.toml + uv.lock, its environment built by uv): file
parameters, credentials, secret masking, blobs with --out, teardown of a grandchild, repeated print() lines."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from invocation_helpers import KEY, alive, plugin_copy, red_png

pytestmark = pytest.mark.slow


def dify_run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DIFY_LSP_PYTHON"}
    return subprocess.run([sys.executable, "-m", "dify_lsp", "run", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture
def plugin(tmp_path) -> Path:
    return plugin_copy(tmp_path, "uv_project")


def test_file_parameters_are_served_as_dify_file_objects(tmp_path, plugin):
    png = tmp_path / "red.png"
    png.write_bytes(red_png())
    notes = tmp_path / "notes.txt"
    notes.write_text("hello file\n")
    done = dify_run(str(plugin), "--tool", "describe", "--param", f"image={png}", "--param", f"attachments={notes}",
                    "--param", f"attachments={png}", "--credential", f"api_key={KEY}", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    png_sha = hashlib.sha256(png.read_bytes()).hexdigest()[:16]
    notes_sha = hashlib.sha256(notes.read_bytes()).hexdigest()[:16]
    size = png.stat().st_size
    # the SDK built File objects from what it was sent and downloaded each one over the loopback URL
    assert done.stdout.splitlines()[:3] == [
        f"red.png image image/png .png declared={size} downloaded={size} sha256={png_sha}",
        f"notes.txt document text/plain .txt declared=11 downloaded=11 sha256={notes_sha}",
        f"red.png image image/png .png declared={size} downloaded={size} sha256={png_sha}",
    ]
    # the image came back as a blob, saved under the name its meta gives
    saved = tmp_path / "out" / "copy-red.png"
    assert saved.read_bytes() == png.read_bytes()
    assert f"[blob] copy-red.png image/png {size} bytes: {saved}" in done.stdout


def test_file_parameter_that_is_not_a_file_is_a_usage_error(tmp_path, plugin):
    done = dify_run(str(plugin), "--tool", "describe", "--param", f"image={tmp_path / 'missing.png'}",
                    "--credential", f"api_key={KEY}")
    assert done.returncode == 2
    assert "parameter `image` (file)" in done.stderr and "is not a file" in done.stderr


def test_credentials_defaults_required_undeclared_and_oauth(plugin):
    missing = dify_run(str(plugin), "--tool", "echo")
    assert missing.returncode == 2
    assert "missing required credentials: `api_key` (secret-input)" in missing.stderr
    assert "--credential api_key=..." in missing.stderr

    done = dify_run(str(plugin), "--tool", "echo", "--credential", f"api_key={KEY}", "--credential", "extra=1",
                    "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "region=us-east" in result["text"]  # the declared default
    assert "type=CredentialType.API_KEY" in result["text"] and result["credential_type"] == "api-key"
    assert any("credential `extra` is not declared in files.yaml" in w for w in result["warnings"])

    oauth = dify_run(str(plugin), "--tool", "echo", "--credential-type", "oauth", "--format", "json")
    assert oauth.returncode == 0, oauth.stderr  # OAuth credentials follow another schema: nothing enforced
    assert "type=CredentialType.OAUTH" in json.loads(oauth.stdout)["text"]


def test_validate_runs_the_providers_validate_credentials_first(plugin):
    refused = dify_run(str(plugin), "--tool", "echo", "--credential", "api_key=wrong-key-0", "--validate")
    assert refused.returncode == 1
    assert "refused by _validate_credentials: the API key was refused by the service" in refused.stderr
    assert refused.stdout == ""  # the tool itself never ran
    accepted = dify_run(str(plugin), "--tool", "echo", "--credential", f"api_key={KEY}", "--validate", "--format", "json")
    assert accepted.returncode == 0, accepted.stderr
    result = json.loads(accepted.stdout)
    assert result["validation"] == {"valid": True, "message": None} and result["status"] == "success"


def test_only_secret_values_are_masked_and_only_whole(plugin):
    done = dify_run(str(plugin), "--tool", "echo", "--param", "note=Table name a", "--param", "token=tok-secret-99",
                    "--credential", f"api_key={KEY}", "--credential", "region=a", "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # region (text-input) is no secret: `a` stays, and so do the words that contain it
    assert result["text"] == "note=Table name a token=****** api_key=****** region=a type=CredentialType.API_KEY"
    json_message = next(m for m in result["messages"] if m["type"] == "json")
    # a secret used as a JSON key is left alone; values equal to it are masked
    assert json_message["json_object"] == {"region": "a", "note": "Table name a", "tok-secret-99": "as a key"}
    assert result["parameters"]["token"] == "******" and result["parameters"]["note"] == "Table name a"
    assert KEY not in done.stdout + done.stderr

    # a secret shorter than the minimum is masked where it is a value, not searched for in text
    short = dify_run(str(plugin), "--tool", "echo", "--param", "token=ab", "--credential", f"api_key={KEY}",
                     "--format", "json")
    result = json.loads(short.stdout)
    assert result["parameters"]["token"] == "******"
    assert "token=ab " in result["text"]


def test_out_saves_a_multi_megabyte_blob_and_json_carries_the_whole_data(tmp_path, plugin):
    out = tmp_path / "out"
    done = dify_run(str(plugin), "--tool", "big_blob", "--param", "megabytes=3", "--credential", f"api_key={KEY}",
                    "--out", str(out))
    assert done.returncode == 0, done.stderr
    size = 3 * 1024 * 1024
    expected = bytes(i % 251 for i in range(size))
    blobs = sorted(out.iterdir())
    assert [p.suffix for p in blobs] == [".bin", ".csv"]
    assert blobs[0].read_bytes() == expected and blobs[1].name == "table.csv"
    assert f"application/octet-stream {size} bytes: {blobs[0]}" in done.stdout

    as_json = dify_run(str(plugin), "--tool", "big_blob", "--param", "megabytes=3", "--credential", f"api_key={KEY}",
                       "--format", "json")
    result = json.loads(as_json.stdout)
    blob = next(m for m in result["messages"] if m["type"] == "blob" and m["size"] == size)
    assert base64.b64decode(blob["data_base64"]) == expected  # never truncated
    assert blob["file"]["mime_type"] == "application/octet-stream" and blob["file"]["size"] == size

    saved = dify_run(str(plugin), "--tool", "big_blob", "--param", "megabytes=3", "--credential", f"api_key={KEY}",
                     "--format", "json", "--out", str(tmp_path / "out2"))
    blob = next(m for m in json.loads(saved.stdout)["messages"] if m["type"] == "blob" and m["size"] == size)
    assert "data_base64" not in blob and Path(blob["path"]).read_bytes() == expected


def test_grandchild_holding_stdout_ends_at_the_timeout(tmp_path, plugin):
    pid_file = tmp_path / "grandchild.pid"
    args = (str(plugin), "--tool", "grandchild", "--param", f"pid_file={pid_file}", "--credential", f"api_key={KEY}",
            "--timeout", "10")
    # the environment first (built when this test runs alone): the timeout is about the plugin
    assert dify_run(str(plugin), "--tool", "sizes", "--param", "bytes=1", "--credential", f"api_key={KEY}").returncode == 0
    t0 = time.perf_counter()
    done = dify_run(*args)
    elapsed = time.perf_counter() - t0
    assert done.returncode == 1
    assert "the tool did not finish within 10 s; the plugin's process tree was killed" in done.stderr
    assert "Event loop is closed" not in done.stderr and "Traceback" not in done.stderr
    assert not alive(int(pid_file.read_text()))
    # wall time: the timeout + 1 s, plus the CLI's own interpreter start-up (well under 2 s); 10 s so that a
    # loaded machine still gets the plugin to the tool before the timeout
    assert elapsed < 10 + 1 + 2, elapsed

    as_json = dify_run(*args, "--format", "json")
    result = json.loads(as_json.stdout)
    assert result["status"] == "timeout"
    assert result["duration_ms"] < 11000, result["duration_ms"]  # the whole run, teardown included
    assert "Event loop is closed" not in as_json.stderr


def test_repeated_print_lines_are_one_warning_with_a_count(plugin):
    done = dify_run(str(plugin), "--tool", "echo", "--param", "repeat=5", "--credential", f"api_key={KEY}",
                    "--format", "json")
    warnings = [w for w in json.loads(done.stdout)["warnings"] if "not protocol JSON" in w]
    assert len(warnings) == 1 and warnings[0].endswith("(5 times)")
    assert "'the same debugging line'" in warnings[0]


def test_a_plugin_with_nothing_to_run_says_so(tmp_path):
    plugin = plugin_copy(tmp_path, "uv_project")
    manifest = plugin / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("plugins:\n  tools:\n    - provider/files.yaml", "plugins: {}"))
    done = dify_run(str(plugin))
    assert done.returncode == 2
    assert "the manifest lists no plugins (plugins.tools, models, endpoints, ...): there is nothing to run" in done.stderr


def test_several_tools_need_a_name(plugin):
    done = dify_run(str(plugin), "--credential", f"api_key={KEY}")
    assert done.returncode == 2
    assert "several tools match, pass --tool/--provider: files/sizes, files/describe" in done.stderr
