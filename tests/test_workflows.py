"""The GitHub workflows (CI and release) and what a release publishes, checked here with the tools the
release itself uses: GitHub's workflow schema (check-jsonschema), zizmor's security audits (offline: the
audits that ask GitHub's API, such as whether a pinned commit belongs to its action, cannot run here),
twine and check-wheel-contents on a freshly built sdist and wheel, and the one version.

What only GitHub can show (that the release job really publishes, that the macOS and Windows runners pass)
is not tested here; the workflows' structure is.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dify_lsp

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
CHECK_VERSION = REPO / "vscode-client" / "scripts" / "check_version.py"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is not installed (it is in the test extras: pip install -e '.[test]')"
    return found


def workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps_text(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) + " " + str(step.get("uses", "")) for step in job["steps"])


def test_workflows_match_githubs_schema():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert {Path(f).name for f in files} >= {"ci.yml", "release.yml"}
    done = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_fails_on_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: 3\n        bogus: key\n")
    done = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0


def zizmor_findings(path: Path) -> list[dict]:
    done = subprocess.run([tool("zizmor"), "--offline", "--format", "json", str(path)], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().startswith("["), done.stdout + done.stderr
    return json.loads(done.stdout)


def test_zizmor_finds_nothing_of_high_severity():
    high = [(f["ident"], f["desc"]) for f in zizmor_findings(WORKFLOWS) if f["determinations"]["severity"] == "High"]
    assert not high, high


def test_zizmor_would_catch_an_injection(tmp_path):
    """The audit is live: a workflow that pastes the tag name into a shell is reported as high severity."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on:\n  push:\n    tags: ['v*']\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n"
    )
    assert any(f["determinations"]["severity"] == "High" for f in zizmor_findings(bad))


def test_release_workflow_builds_checks_releases_and_publishes():
    release = workflow("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}
    jobs = release["jobs"]
    dists = steps_text(jobs["python-dists"])
    assert "check_version.py --tag" in dists
    assert "python -m build" in dists and "twine check --strict dist/*" in dists and "check-wheel-contents dist/*.whl" in dists
    vsix = steps_text(jobs["vsix"])
    assert "npm run package" in vsix and "tests/test_vsix_packages.py" in vsix
    release_job = jobs["github-release"]
    assert set(release_job["needs"]) == {"python-dists", "vsix"}
    assert release_job["permissions"] == {"contents": "write"}
    assert "gh release create" in steps_text(release_job) and "artifacts/vsix/*.vsix" in steps_text(release_job)
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"} and pypi["environment"]["name"] == "pypi"
    assert any(s.get("uses", "").startswith("pypa/gh-action-pypi-publish@") for s in pypi["steps"])
    assert not any("password" in (s.get("with") or {}) for s in pypi["steps"]), "trusted publishing needs no token"
    ovsx = jobs["open-vsx"]
    assert "ovsx" in steps_text(ovsx) and any(s.get("env", {}).get("OVSX_PAT") == "${{ secrets.OVSX_PAT }}" for s in ovsx["steps"])
    marketplace = jobs["vscode-marketplace"]
    assert "vsce" in steps_text(marketplace) and "publish" in steps_text(marketplace)
    assert any(s.get("env", {}).get("VSCE_PAT") == "${{ secrets.VSCE_PAT }}" for s in marketplace["steps"])
    for job in ("pypi", "open-vsx", "vscode-marketplace"):
        assert "github-release" in jobs[job]["needs"]
        assert jobs[job].get("environment"), f"{job}: publishing secrets belong to an environment"


def test_every_action_is_pinned_to_a_commit():
    for path in WORKFLOWS.glob("*.yml"):
        for ref in re.findall(r"uses:\s*(\S+)", path.read_text(encoding="utf-8")):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned to a commit"


def test_ci_runs_the_tests_on_linux_macos_and_windows():
    jobs = workflow("ci.yml")["jobs"]
    assert "bash scripts/test.sh" in steps_text(jobs["linux"])
    assert jobs["linux"]["runs-on"] == "ubuntu-latest"
    assert set(jobs["other-platforms"]["strategy"]["matrix"]["os"]) == {"macos-latest", "windows-latest"}
    other = steps_text(jobs["other-platforms"])
    assert "pytest" in other and "tests/test_vsix_packages.py" in other and "tests/test_platform_lsp.py" in other


def test_one_version_everywhere():
    package_json = json.loads((REPO / "vscode-client" / "package.json").read_text(encoding="utf-8"))
    assert package_json["version"] == dify_lsp.__version__
    done = subprocess.run([sys.executable, str(CHECK_VERSION), "--tag", f"v{dify_lsp.__version__}", "--notes"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "VS Code extension" in done.stdout  # the CHANGELOG section of this version
    wrong = subprocess.run([sys.executable, str(CHECK_VERSION), "--tag", "v99.0.0"], capture_output=True, text=True)
    assert wrong.returncode == 1 and "does not name version" in wrong.stderr


@pytest.fixture(scope="module")
def built_dists(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("dists")
    # --no-isolation: setuptools from the test extras, so the build needs no network
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    dists = sorted(out.iterdir())
    assert {p.suffix for p in dists} == {".whl", ".gz"}
    return dists


@pytest.mark.slow
def test_twine_check_passes_on_the_built_sdist_and_wheel(built_dists):
    done = subprocess.run([tool("twine"), "check", "--strict", *map(str, built_dists)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


@pytest.mark.slow
def test_check_wheel_contents_passes_on_the_built_wheel(built_dists):
    (wheel,) = [p for p in built_dists if p.suffix == ".whl"]
    assert wheel.name == f"dify_lsp-{dify_lsp.__version__}-py3-none-any.whl"
    done = subprocess.run([tool("check-wheel-contents"), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout
