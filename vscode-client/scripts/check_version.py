"""Checks that the release's version is written once: dify_lsp/__init__.py's __version__.

The extension's package.json must carry the same version, CHANGELOG.md must have a section for it, and a
release tag (``--tag v0.2.0``) must name it.  ``--notes`` prints that CHANGELOG section (the GitHub release's
text).  Exit 1 with one line per mismatch.

Usage: python3 vscode-client/scripts/check_version.py [--tag TAG] [--notes]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def server_version() -> str:
    text = (REPO / "dify_lsp" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    if not match:
        raise SystemExit("check_version: no __version__ = \"...\" line in dify_lsp/__init__.py")
    return match.group(1)


def changelog_section(version: str) -> str | None:
    """The text under `## <version>` (up to the next `## `), or None when there is no such section."""
    heading = re.compile(rf"## \[?{re.escape(version)}\]?(\s|$)")
    section: list[str] | None = None
    for line in (REPO / "CHANGELOG.md").read_text(encoding="utf-8").splitlines():
        if section is not None:
            if line.startswith("## "):
                break
            section.append(line)
        elif heading.match(line):
            section = []
    return "\n".join(section).strip() if section is not None else None


def problems(tag: str | None) -> list[str]:
    version = server_version()
    found = []
    extension = json.loads((REPO / "vscode-client" / "package.json").read_text(encoding="utf-8"))["version"]
    if extension != version:
        found.append(f"vscode-client/package.json has version {extension}; dify_lsp.__version__ is {version}")
    if changelog_section(version) is None:
        found.append(f"CHANGELOG.md has no '## {version}' section")
    if tag is not None and tag != f"v{version}":
        found.append(f"the tag {tag} does not name version {version} (expected v{version})")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", help="the release tag, e.g. v0.2.0")
    parser.add_argument("--notes", action="store_true", help="print the CHANGELOG section of this version")
    args = parser.parse_args(argv)
    found = problems(args.tag)
    for line in found:
        print(f"check_version: {line}", file=sys.stderr)
    if found:
        return 1
    if args.notes:
        print(changelog_section(server_version()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
