"""Profiles that explain the benchmark's numbers (used for bench/RESULTS.md).

    python bench/profiles.py startup      # where server start-up time goes (-X importtime, create_server)
    python bench/profiles.py breakdown    # plain timings of the pieces behind edit-to-diagnostics (no profiler)
    python bench/profiles.py check        # cProfile of the rules on the 100-tool plugin: cold, then after a one-file edit
    python bench/profiles.py corpus       # cProfile of `dify-lsp check` over the 200-plugin corpus
    python bench/profiles.py edit         # thread CPU of the editor's incremental re-check after a Python edit
    python bench/profiles.py yaml-edit    # the same after an edit of the 5,000-line tool YAML
    python bench/profiles.py yaml-requests  # thread CPU of hover and completion in the 5,000-line tool YAML, in-process
    python bench/profiles.py all

Each prints the top entries by cumulative time.  The workloads are the
benchmark's own (bench/workloads.py), generated into a temporary folder.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as wl  # noqa: E402


def top(prof: cProfile.Profile, n: int = 25, sort: str = "cumulative") -> str:
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(n)
    text = out.getvalue()
    # keep the table, drop pstats' preamble
    return text[text.find("   ncalls"):] if "   ncalls" in text else text


def profile_startup() -> None:
    """Import and construction cost of the server, next to the floor (pygls alone)."""
    code_dify = "from dify_lsp.server import create_server; create_server()"
    code_floor = "import lsprotocol.types, pygls.lsp.server"
    for name, code in (("dify-lsp", code_dify), ("floor (pygls)", code_floor)):
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - t0)
        print(f"{name}: python -c '{code}': best {min(times) * 1000:.0f} ms, median {sorted(times)[2] * 1000:.0f} ms")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code_dify], capture_output=True, text=True, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    print("\nimports by cumulative time (us), top level packages and the heaviest modules:")
    for cum, depth, mod in sorted(rows, reverse=True)[:30]:
        print(f"  {cum / 1000:8.1f} ms  {'  ' * min(depth // 2, 6)}{mod}")


def profile_check(base: Path) -> None:
    from dify_lsp.checker import check_plugin
    from dify_lsp.index import PluginIndex, TextSource

    work = wl.large(base)
    source = TextSource()
    index = PluginIndex(source)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    report = check_plugin(index, work.root, {})
    prof.disable()
    cold = time.perf_counter() - t0
    print(f"check_plugin, 100-tool plugin, cold index: {cold * 1000:.1f} ms, {len(report.findings)} findings")
    print(top(prof))

    # Edits of the 2,000-line Python file and of the 5,000-line tool YAML, as the server sees them:
    # overlay, invalidate, re-check (each edit a new text, as typing makes).
    for label, path, old in (("Python", work.python_file, 'get("prompt'), ("tool YAML", work.tool_yaml, "- name: prompt")):
        text = path.read_text(encoding="utf-8")
        times = []
        prof = cProfile.Profile()
        for i in range(20):
            source.set_overlay(path, text.replace(old, old + str(i)))
            index.invalidate(path)
            t0 = time.perf_counter()
            prof.enable()
            check_plugin(index, work.root, {})
            prof.disable()
            times.append(time.perf_counter() - t0)
        source.set_overlay(path, text)
        index.invalidate(path)
        times.sort()
        print(f"check_plugin after a {label} edit (under cProfile): median {times[len(times) // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms (20 edits)")
        print(top(prof, 30))


def breakdown(base: Path) -> None:
    """Plain timings (no profiler) of the pieces behind edit-to-diagnostics and typing on the large plugin."""
    import statistics

    from dify_lsp import pyscan, yamlpos
    from dify_lsp.checker import check_plugin
    from dify_lsp.index import PluginIndex, TextSource

    work = wl.large(base)
    source = TextSource()
    index = PluginIndex(source)
    t0 = time.perf_counter()
    check_plugin(index, work.root, {})
    print(f"first check_plugin of the 100-tool plugin (rules imported, empty caches): {(time.perf_counter() - t0) * 1000:.1f} ms")
    py_text = work.python_file.read_text(encoding="utf-8")
    yaml_text = work.tool_yaml.read_text(encoding="utf-8")
    serial = iter(range(10**9))

    def median_ms(fn, n: int = 15) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn(next(serial))
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000

    def edit(path: Path, text: str, old: str, i: int) -> None:
        source.set_overlay(path, text.replace(old, f"{old}{i}"))
        index.invalidate(path)

    def reload(i: int) -> None:
        edit(work.python_file, py_text, 'get("prompt', i)
        index.plugin_at(work.root)

    def check_after_python_edit(i: int) -> None:
        edit(work.python_file, py_text, 'get("prompt', i)
        check_plugin(index, work.root, {})

    def check_after_yaml_edit(i: int) -> None:
        edit(work.tool_yaml, yaml_text, "- name: prompt", i)
        check_plugin(index, work.root, {})

    print(f"index reload of the plugin after an edit (PluginIndex.plugin_at): {median_ms(reload):.1f} ms")
    print(f"pyscan.scan of the 2,000-line file, a new text: {median_ms(lambda i: pyscan.scan(py_text + f'#{i}', None)):.1f} ms")
    print(f"yamlpos.parse_yaml of the 5,000-line file, a new text: {median_ms(lambda i: yamlpos.parse_yaml(yaml_text + f'#{i}')):.1f} ms")
    print(f"check_plugin after a Python edit: {median_ms(check_after_python_edit):.1f} ms")
    source.set_overlay(work.python_file, py_text)
    index.invalidate(work.python_file)
    print(f"check_plugin after a tool YAML edit: {median_ms(check_after_yaml_edit):.1f} ms")


def profile_edit(base: Path) -> None:
    """What the editor's diagnostics worker spends after an edit of the 2,000-line Python file of the 100-tool
    plugin (the incremental run: only rules that read the file run again), on its own thread's CPU clock, so
    other processes on a busy machine do not count; next to the scan of that file alone."""
    import statistics

    from dify_lsp import pyscan
    from dify_lsp.checker import PreviousRun, check_plugin
    from dify_lsp.index import PluginIndex, TextSource

    work = wl.large(base)
    source = TextSource()
    index = PluginIndex(source)
    previous = PreviousRun()
    check_plugin(index, work.root, {}, previous)
    text = work.python_file.read_text(encoding="utf-8")

    def once(i: int) -> float:
        source.set_overlay(work.python_file, text.replace('get("prompt', f'get("prompt{i}'))
        index.invalidate(work.python_file)
        t0 = time.thread_time()
        check_plugin(index, work.root, {}, previous)
        return time.thread_time() - t0

    for i in range(3):
        once(10_000 + i)
    runs = [once(i) for i in range(15)]
    scans = []
    for i in range(15):
        t0 = time.thread_time()
        pyscan.scan(text + f"#{i}", None)
        scans.append(time.thread_time() - t0)
    # the same edit as above, scanned from the scan of the text before it (what the re-check does)
    pyscan.scan(text, index.caches)
    rescans = []
    for i in range(15):
        t0 = time.thread_time()
        pyscan.scan(text.replace('get("prompt', f'get("prompt{30_000 + i}'), index.caches, previous=text)
        rescans.append(time.thread_time() - t0)
    print(f"incremental re-check after a Python edit: thread CPU median {statistics.median(runs) * 1000:.1f} ms "
          f"(min {min(runs) * 1000:.1f}); pyscan.scan of the edited file alone: median {statistics.median(scans) * 1000:.1f} ms "
          f"from scratch, {statistics.median(rescans) * 1000:.1f} ms from the scan of its text before the edit")
    prof = cProfile.Profile()
    prof.enable()
    for i in range(10):
        once(20_000 + i)
    prof.disable()
    print(top(prof, 30))


def profile_yaml_edit(base: Path) -> None:
    """What the editor's diagnostics worker spends after an edit of the 5,000-line tool YAML of the 100-tool
    plugin (the benchmark's edit: the first parameter's name renamed, a new text each time): the incremental
    re-check, then turning the file's findings into LSP diagnostics as publishing does, on the thread's CPU
    clock; next to the parse of that file alone."""
    import statistics

    from dify_lsp import yamlpos
    from dify_lsp.checker import PreviousRun, check_plugin, gc_paused
    from dify_lsp.index import PluginIndex, TextSource

    work = wl.large(base)
    source = TextSource()
    index = PluginIndex(source)
    previous = PreviousRun()
    check_plugin(index, work.root, {}, previous)
    text = work.tool_yaml.read_text(encoding="utf-8")
    old = "- name: prompt"

    def once(i: int) -> float:
        source.set_overlay(work.tool_yaml, text.replace(old, f"{old}{i}", 1))
        index.invalidate(work.tool_yaml)
        t0 = time.thread_time()
        check_plugin(index, work.root, {}, previous)
        return time.thread_time() - t0

    for i in range(3):
        once(10_000 + i)
    runs = [once(i) for i in range(15)]
    reran = ", ".join(previous.reran)
    parses = []
    for i in range(15):
        with gc_paused():  # as in the check
            t0 = time.thread_time()
            yamlpos.parse_yaml(text.replace(old, f"{old}{30_000 + i}", 1))
            parses.append(time.thread_time() - t0)
    print(f"incremental re-check after a tool YAML edit: thread CPU median {statistics.median(runs) * 1000:.1f} ms "
          f"(min {min(runs) * 1000:.1f}); yamlpos.parse_yaml of the edited file alone: median {statistics.median(parses) * 1000:.1f} ms")
    print(f"checks run again after the edit ({len(previous.reran)}): {reran}; parses so far: {yamlpos.PARSE_COUNTS}")
    prof = cProfile.Profile()
    prof.enable()
    for i in range(10):
        once(20_000 + i)
    prof.disable()
    print(top(prof, 40))
    print(top(prof, 25, "tottime"))


def profile_yaml_requests(base: Path) -> None:
    """Hover and completion at the benchmark's positions in the 5,000-line tool YAML, through the server's
    own handlers in-process (no JSON-RPC): thread CPU of the whole request (handler, providers, turning the
    answer into JSON) next to the providers alone, then a cProfile of the requests."""
    import asyncio
    import json
    import statistics

    from lsprotocol import types

    from dify_lsp.features.yaml_completion import yaml_completion
    from dify_lsp.features.yaml_hover import yaml_hover
    from dify_lsp.server import create_server

    work = wl.large(base)
    server = create_server()
    proto = server.protocol

    def drive(gen):  # a pygls built-in handler: it yields the user's handler to call
        try:
            step = next(gen)
            while True:
                handler, args, kwargs = step
                step = gen.send(handler(*args, **(kwargs or {})))
        except StopIteration as stop:
            return stop.value

    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
            completion=types.CompletionClientCapabilities(completion_item=types.ClientCompletionItemOptions(snippet_support=True)),
        )
    )

    async def run() -> None:
        drive(proto.lsp_initialize(types.InitializeParams(capabilities=capabilities, process_id=None, root_uri=work.root.as_uri())))
        text = work.tool_yaml.read_text(encoding="utf-8")
        uri = work.tool_yaml.as_uri()
        drive(proto.lsp_text_document__did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "yaml", 1, text))))
        await server.diagnostics.fresh_report(work.root)
        handlers = proto.fm.features
        for name, probe in wl.TOOL_PROBES.items():
            position = types.Position(**probe.position(text))
            doc = types.TextDocumentIdentifier(uri)
            if name.startswith("hover"):
                method, params, provider = types.TEXT_DOCUMENT_HOVER, types.HoverParams(doc, position), yaml_hover
            else:
                method, params, provider = types.TEXT_DOCUMENT_COMPLETION, types.CompletionParams(doc, position), yaml_completion

            async def request():
                result = await handlers[method](params)
                return json.dumps(proto._converter.unstructure(result))

            for _ in range(5):
                await request()
            whole, alone = [], []
            for _ in range(40):
                t0 = time.thread_time()
                await request()
                whole.append(time.thread_time() - t0)
            ctx = server.request_context(uri, fresh=False)
            pos = server.from_lsp_position(uri, position)
            for _ in range(40):
                t0 = time.thread_time()
                provider(ctx, pos)
                alone.append(time.thread_time() - t0)
            print(f"{name}: whole request median {statistics.median(whole) * 1000:.3f} ms; "
                  f"{provider.__name__} alone {statistics.median(alone) * 1000:.3f} ms")
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(40):
                await request()
            prof.disable()
            print(top(prof, 25, "tottime"))

    asyncio.run(run())


def profile_corpus(base: Path) -> None:
    from dify_lsp import cli

    folder = wl.corpus(base)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    import contextlib

    with contextlib.redirect_stdout(io.StringIO()):
        cli.cmd_check([str(folder)], "json")
    prof.disable()
    elapsed = time.perf_counter() - t0
    print(f"dify-lsp check (in-process) on 200 plugins: {elapsed:.2f} s = {200 / elapsed:.0f} plugins/s")
    print(top(prof))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["startup", "breakdown", "check", "corpus", "edit", "yaml-edit", "yaml-requests", "all"])
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dify-lsp-profile-") as tmp:
        base = Path(tmp)
        if args.what in ("startup", "all"):
            profile_startup()
        if args.what in ("breakdown", "all"):
            breakdown(base / "breakdown")
        if args.what in ("check", "all"):
            profile_check(base / "check")
        if args.what in ("corpus", "all"):
            profile_corpus(base / "corpus")
        if args.what in ("edit", "all"):
            profile_edit(base / "edit")
        if args.what in ("yaml-edit", "all"):
            profile_yaml_edit(base / "yaml-edit")
        if args.what in ("yaml-requests", "all"):
            profile_yaml_requests(base / "yaml-requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
