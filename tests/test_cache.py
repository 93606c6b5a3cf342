"""The persistent `check` result cache: served only while every input is unchanged, atomic, keyed by settings."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

from dify_lsp.cache import ResultCache, default_cache_dir
from dify_lsp.caches import Caches
from dify_lsp.checker import check_root, check_roots

REPO = Path(__file__).resolve().parent.parent


def facts(result) -> list[tuple]:
    return [(str(f.path), tuple(f.span), f.code, f.message, int(f.severity)) for f in result.findings]


def fresh(root: Path, settings: dict | None = None) -> list[tuple]:
    return facts(check_root(root, settings or {}, None))


def cached(root: Path, cache: ResultCache, settings: dict | None = None):
    result = check_root(root, settings or {}, cache)
    assert facts(result) == fresh(root, settings), "a cached run must give a fresh run's findings"
    return result


def test_second_run_is_served_from_the_cache(llm_tool: Path, tmp_path: Path):
    cache = ResultCache(tmp_path / "cache")
    first = cached(llm_tool, cache)
    second = cached(llm_tool, cache)
    assert not first.cached and second.cached
    assert facts(first) == facts(second)


def test_editing_the_yaml_a_python_finding_depends_on_is_never_served_stale(llm_tool: Path, tmp_path: Path):
    """DL207 sits on tools/llm.py but comes from tools/llm.yaml: declaring the parameter there must clear it."""
    py = llm_tool / "tools" / "llm.py"
    py.write_text(py.read_text().replace('tool_parameters.get("query")', 'tool_parameters.get("extra_knob")'))
    cache = ResultCache(tmp_path / "cache")
    before = cached(llm_tool, cache)
    assert any(f.code == "DL207" and f.path == py for f in before.findings)
    assert cached(llm_tool, cache).cached

    yml = llm_tool / "tools" / "llm.yaml"
    text = yml.read_text()
    declared = text.replace("parameters:\n", "parameters:\n  - name: extra_knob\n    type: string\n    required: false\n"
                            "    label:\n      en_US: Extra\n    human_description:\n      en_US: Extra\n"
                            "    llm_description: extra\n    form: llm\n", 1)
    assert declared != text
    yml.write_text(declared)
    after = cached(llm_tool, cache)
    assert not after.cached
    assert not any(f.code == "DL207" and f.path == py for f in after.findings)


def test_a_file_appearing_where_a_reference_pointed_clears_the_missing_file_finding(llm_tool: Path, tmp_path: Path):
    yml = llm_tool / "tools" / "llm.yaml"
    yml.write_text(yml.read_text().replace("source: tools/llm.py", "source: tools/other.py"))
    cache = ResultCache(tmp_path / "cache")
    assert any(f.code == "DL002" for f in cached(llm_tool, cache).findings)
    assert cached(llm_tool, cache).cached
    (llm_tool / "tools" / "other.py").write_text((llm_tool / "tools" / "llm.py").read_text())
    after = cached(llm_tool, cache)
    assert not after.cached
    assert not any(f.code == "DL002" for f in after.findings)


def test_a_new_unlisted_tool_file_is_seen(llm_tool: Path, tmp_path: Path):
    cache = ResultCache(tmp_path / "cache")
    assert not any(f.code == "DL003" for f in cached(llm_tool, cache).findings)
    (llm_tool / "tools" / "stray.yaml").write_text((llm_tool / "tools" / "llm.yaml").read_text())
    after = cached(llm_tool, cache)
    assert not after.cached
    assert any(f.code == "DL003" for f in after.findings)


def test_requirements_and_pyproject_are_inputs_too(llm_tool: Path, tmp_path: Path):
    cache = ResultCache(tmp_path / "cache")
    cached(llm_tool, cache)
    assert cached(llm_tool, cache).cached
    (llm_tool / "requirements.txt").write_text("dify_plugin>=0.0.1b60\n")
    assert not cached(llm_tool, cache).cached
    assert cached(llm_tool, cache).cached
    (llm_tool / "pyproject.toml").write_text('[tool.dify-lsp]\nignore = ["DL208"]\n')
    assert not cached(llm_tool, cache).cached


def test_settings_have_their_own_entries(llm_tool: Path, tmp_path: Path):
    py = llm_tool / "tools" / "llm.py"
    py.write_text(py.read_text().replace('tool_parameters.get("query")', 'tool_parameters.get("extra_knob")'))
    cache = ResultCache(tmp_path / "cache")
    assert any(f.code == "DL207" for f in cached(llm_tool, cache).findings)  # what the setting below hides
    quiet = {"ignore": ["DL207"]}
    result = cached(llm_tool, cache, quiet)
    assert not result.cached
    assert not any(f.code == "DL207" for f in result.findings)
    assert cached(llm_tool, cache, quiet).cached


def test_a_damaged_entry_is_ignored_and_replaced(llm_tool: Path, tmp_path: Path):
    cache = ResultCache(tmp_path / "cache")
    cached(llm_tool, cache)
    (entry,) = [p for p in (tmp_path / "cache").rglob("*.pickle")]
    entry.write_bytes(b"\x80\x05not a pickle")
    assert not cached(llm_tool, cache).cached
    assert cached(llm_tool, cache).cached
    entry.write_bytes(pickle.dumps({"something": "else"}))
    assert not cached(llm_tool, cache).cached


def test_no_temporary_files_are_left_and_an_unwritable_cache_is_skipped(llm_tool: Path, tmp_path: Path):
    cache = ResultCache(tmp_path / "cache")
    cached(llm_tool, cache)
    assert not [p for p in (tmp_path / "cache").rglob(".tmp-*")]
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    result = check_root(llm_tool, {}, ResultCache(blocked / "cache"))
    assert facts(result) == fresh(llm_tool)


def test_default_location_follows_xdg_cache_home(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "dify-lsp" / "check"


def _plugins(tmp_path: Path, llm_tool: Path, n: int) -> list[Path]:
    import shutil

    roots = []
    for i in range(n):
        dest = tmp_path / "corpus" / f"p{i}"
        shutil.copytree(llm_tool, dest)
        if i % 2:
            py = dest / "tools" / "llm.py"
            py.write_text(py.read_text().replace('tool_parameters.get("query")', f'tool_parameters.get("knob_{i}")'))
        roots.append(dest)
    return roots


def test_parallel_and_cached_runs_equal_the_single_process_run(llm_tool: Path, tmp_path: Path):
    roots = _plugins(tmp_path, llm_tool, 5)
    serial = {r: facts(v) for r, v in check_roots(roots, {}, jobs=1).items()}
    parallel = {r: facts(v) for r, v in check_roots(roots, {}, jobs=2).items()}
    cache = ResultCache(tmp_path / "cache")
    cold = check_roots(roots, {}, jobs=2, cache=cache)
    warm = check_roots(roots, {}, jobs=2, cache=cache)
    assert serial == parallel == {r: facts(v) for r, v in cold.items()} == {r: facts(v) for r, v in warm.items()}
    assert all(v.cached for v in warm.values()) and not any(v.cached for v in cold.values())
    assert list(warm) == roots


def test_concurrent_runs_share_one_cache_safely(llm_tool: Path, tmp_path: Path):
    roots = _plugins(tmp_path, llm_tool, 4)
    cache_dir = tmp_path / "cache"
    script = (
        "import sys; from pathlib import Path; from dify_lsp.checker import check_roots; from dify_lsp.cache import ResultCache;"
        "roots=[Path(p) for p in sys.argv[2:]];"
        "[check_roots(roots, {}, jobs=1, cache=ResultCache(Path(sys.argv[1]))) for _ in range(3)]"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(cache_dir), *map(str, roots)]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    warm = check_roots(roots, {}, jobs=1, cache=ResultCache(cache_dir))
    assert all(v.cached for v in warm.values())
    assert {r: facts(v) for r, v in warm.items()} == {r: fresh(r) for r in roots}
    assert not [p for p in cache_dir.rglob(".tmp-*")]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dify_lsp", *args], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, **(env or {})})


def test_cli_cache_dir_and_no_cache(llm_tool: Path, tmp_path: Path):
    cache_dir = tmp_path / "c"
    first = run_cli("check", str(llm_tool), "--format", "json", "--cache-dir", str(cache_dir))
    assert list(cache_dir.rglob("*.pickle"))
    second = run_cli("check", str(llm_tool), "--format", "json", "--cache-dir", str(cache_dir), "--jobs", "2")
    assert first.stdout == second.stdout and first.returncode == second.returncode
    xdg = tmp_path / "xdg"
    none = run_cli("check", str(llm_tool), "--format", "json", "--no-cache", env={"XDG_CACHE_HOME": str(xdg)})
    assert none.stdout == first.stdout
    assert not xdg.exists()
    default = run_cli("check", str(llm_tool), "--format", "json", env={"XDG_CACHE_HOME": str(xdg)})
    assert default.stdout == first.stdout
    assert list((xdg / "dify-lsp").rglob("*.pickle"))


def test_a_symlink_retargeted_outside_the_plugin_is_seen(llm_tool: Path, tmp_path: Path):
    """Same bytes, other place: only the symlink check notices the source now lives outside the plugin."""
    py = llm_tool / "tools" / "llm.py"
    inside = llm_tool / "tools" / "impl.py"
    outside = tmp_path / "elsewhere" / "impl.py"
    outside.parent.mkdir()
    inside.write_text(py.read_text())
    outside.write_text(py.read_text())
    py.unlink()
    py.symlink_to(inside)
    cache = ResultCache(tmp_path / "cache")
    before = cached(llm_tool, cache)
    assert cached(llm_tool, cache).cached
    py.unlink()
    py.symlink_to(outside)
    after = cached(llm_tool, cache)
    assert not after.cached
    assert {f.code for f in after.findings} != {f.code for f in before.findings}


def test_on_the_benchmark_corpus_every_mode_equals_the_single_process_run(tmp_path: Path):
    """bench/corpus.py's realistic plugins (every kind): cold, warm and parallel runs match a fresh one exactly."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import corpus as bench_corpus
    finally:
        sys.path.remove(str(REPO / "bench"))
    roots = bench_corpus.generate(tmp_path / "corpus", plugins=12, seed=3)
    assert {r.name.rsplit("_", 1)[0] for r in roots} == set(bench_corpus.REAL_MIX)
    single = {r: facts(v) for r, v in check_roots(roots, {}, jobs=1).items()}
    assert any(single.values())
    cache = ResultCache(tmp_path / "cache")
    for run in (check_roots(roots, {}, jobs=2), check_roots(roots, {}, jobs=2, cache=cache), check_roots(roots, {}, jobs=1, cache=cache)):
        assert {r: facts(v) for r, v in run.items()} == single


def test_python_no_interpreter_here_could_judge_is_not_cached(llm_tool: Path, tmp_path: Path):
    """Python only a 3.12 can parse: a 3.12 verdict is cached (it depends on the text alone), "no 3.12 on this
    machine, so nothing is said" is not (it would go stale the day one is installed)."""
    import sys as _sys

    from dify_lsp.rules import python_syntax

    py = llm_tool / "tools" / "llm.py"
    text = py.read_text() + "\ntype Alias = int\n"  # 3.12 syntax
    py.write_text(text)
    cache = ResultCache(tmp_path / "cache")
    cached(llm_tool, cache)
    second = cached(llm_tool, cache)
    judged = _sys.version_info >= (3, 12) or python_syntax.verdicts([text], llm_tool, Caches())[text] != "unknown"
    assert second.cached == judged


def test_a_new_repository_root_between_plugin_and_config_is_seen(tmp_path: Path, llm_tool: Path):
    """Configuration is looked up to the repository root: a .git appearing below a pyproject.toml hides it."""
    import shutil as _shutil

    outer = tmp_path / "outer"
    plugin = outer / "inner" / "llm-tool"
    _shutil.copytree(llm_tool, plugin)
    (outer / ".git").mkdir()
    py = plugin / "tools" / "llm.py"
    py.write_text(py.read_text().replace('tool_parameters.get("query")', 'tool_parameters.get("extra_knob")'))
    (outer / "pyproject.toml").write_text('[tool.dify-lsp]\nignore = ["DL207"]\n')
    cache = ResultCache(tmp_path / "cache")
    assert not any(f.code == "DL207" for f in cached(plugin, cache).findings)
    assert cached(plugin, cache).cached
    (outer / "inner" / ".git").mkdir()
    after = cached(plugin, cache)
    assert not after.cached
    assert any(f.code == "DL207" for f in after.findings)


def test_without_any_python_312_such_a_plugin_is_checked_every_time(llm_tool: Path, tmp_path: Path, monkeypatch):
    import sys as _sys
    import uuid

    from dify_lsp.rules import python_syntax

    monkeypatch.setattr(python_syntax, "_interpreter", lambda root: None)
    py = llm_tool / "tools" / "llm.py"
    py.write_text(py.read_text() + f"\ntype Alias = int  # {uuid.uuid4()}\n")  # 3.12 syntax no verdict has seen
    cache = ResultCache(tmp_path / "cache")
    cached(llm_tool, cache)
    # a running 3.12 decides by itself (nothing depends on the machine, so it is cached); a 3.11 cannot
    assert cached(llm_tool, cache).cached == (_sys.version_info >= (3, 12))
