"""What `check --marketplace` adds to `check`, per plugin: the command line end to end (CPU seconds of the
child process, the median of several runs, so other load on the machine matters less) and the rule engine
alone (in process, no interpreter start-up).

    python bench/marketplace_speed.py DIR [--plugins 20] [--repeat 5]

DIR is searched for plugins (folders holding manifest.yaml), e.g. a checkout of dify-official-plugins.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dify_lsp.checker import check_plugin
from dify_lsp.index import PluginIndex, find_plugin_roots


def cli_cpu(root: Path, marketplace: bool) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = [sys.executable, "-m", "dify_lsp", "check", "--no-cache", "-j", "1", str(root)]
    subprocess.run(args + (["--marketplace"] if marketplace else []), capture_output=True, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def engine_cpu(root: Path, marketplace: bool) -> float:
    start = time.process_time()
    check_plugin(PluginIndex(), root, {"marketplace": True} if marketplace else {})
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--plugins", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    roots = sorted(find_plugin_roots(args.corpus.resolve()))[: args.plugins]
    totals = {"cli": [0.0, 0.0], "engine": [0.0, 0.0]}
    print(f"{'plugin':<40} {'cli plain':>9} {'cli +mkt':>9} {'engine':>8} {'eng +mkt':>9}")
    for root in roots:
        row = []
        for kind, fn in (("cli", cli_cpu), ("engine", engine_cpu)):
            for i, marketplace in enumerate((False, True)):
                fn(root, marketplace)  # warm the disk cache
                value = statistics.median(fn(root, marketplace) for _ in range(args.repeat))
                totals[kind][i] += value
                row.append(value)
        print(f"{root.name:<40} {row[0]:>9.3f} {row[1]:>9.3f} {row[2]:>8.3f} {row[3]:>9.3f}")
    for kind, (plain, market) in totals.items():
        print(f"{kind}: check {plain:.2f} s, check --marketplace {market:.2f} s, +{100 * (market - plain) / plain:.0f}%")


if __name__ == "__main__":
    main()
