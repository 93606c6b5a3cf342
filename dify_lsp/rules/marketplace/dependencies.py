"""Dependency policy: every requirement pinned or bounded, nothing installed from git or a URL, and the SDK
(dify_plugin) at least the version the review demands.  requirements.txt (with its ``-r`` includes) and
pyproject.toml (PEP 621, dependency groups, Poetry tables) are both read, as the review reads them."""

from __future__ import annotations

import re
import tomllib
from typing import Any, Iterator

from dify_lsp.findings import Finding, Fix, Severity, TextEdit
from dify_lsp.i18n import msg
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import define_rule
from dify_lsp.rules.marketplace.family import FAMILY, package_check
from dify_lsp.rules.marketplace.package import PackageView
from dify_lsp.textpos import LineIndex, Span

UNPINNED = define_rule("DL640", "marketplace-dependency-unpinned", "A dependency has no version constraint: the review blocks the package.", Severity.ERROR, FAMILY)
DIRECT = define_rule("DL641", "marketplace-dependency-direct-url", "A dependency is installed from git or a direct URL: the review blocks the package.", Severity.ERROR, FAMILY)
SDK_VERSION = define_rule("DL642", "marketplace-sdk-too-old", "The dify_plugin requirement allows versions below 0.9.0, the oldest SDK the review accepts: it blocks the package.", Severity.ERROR, FAMILY)
LOWER_BOUND = define_rule("DL643", "marketplace-dependency-lower-bound", "A dependency has only a lower bound (>=): the review warns that a future release installs unreviewed.", Severity.WARNING, FAMILY)
LOCAL = define_rule("DL644", "marketplace-dependency-local", "An editable install or a local path dependency: the review asks a reviewer to approve it.", Severity.WARNING, FAMILY)
LARGE = define_rule("DL645", "marketplace-dependency-large", "A very large runtime dependency (torch, tensorflow, playwright, ...): the review asks a reviewer to approve it.", Severity.WARNING, FAMILY)
UNREADABLE = define_rule("DL646", "marketplace-pyproject-invalid", "pyproject.toml is not valid TOML: the review blocks the package.", Severity.ERROR, FAMILY)
INCLUDE = define_rule("DL647", "marketplace-requirements-include", "A `-r` include names a requirements file that is missing or outside the package: the review warns.", Severity.WARNING, FAMILY)

MIN_SDK = (0, 9, 0)
SDK_NAME = "dify-plugin"
OPERATOR = re.compile(r"(===|==|~=|!=|<=|>=|<|>|\^)")
DIRECT_URL = re.compile(r"(^|\s@)\s*(?:https?|ftp|file)://", re.IGNORECASE)
GIT = re.compile(r"git\+", re.IGNORECASE)
LOCAL_PATH = re.compile(r"(^|\s@)\s*(?:\./|\.\./|/)")
ONLY_LOWER = re.compile(r"^([^<>=!~]+)?(>=|>)\s*[^,]+$", re.IGNORECASE)
NAME = re.compile(r"^\s*([A-Za-z0-9_.-]+)")
SDK_BOUND = re.compile(r"(?:>=|==)\s*([0-9][0-9A-Za-z.+-]*)")
LARGE_PACKAGES = frozenset({
    "chromadb", "faiss-cpu", "faiss-gpu", "jax", "llama-cpp-python", "opencv-contrib-python", "opencv-python",
    "opencv-python-headless", "paddlepaddle", "playwright", "pyppeteer", "selenium", "spacy", "tensorflow",
    "tensorflow-cpu", "torch", "torchaudio", "torchvision", "transformers",
})
OPTIONS = ("-c ", "--constraint ", "--extra-index-url ", "--find-links ", "--index-url ", "--no-binary ", "--only-binary ",
           "--trusted-host ", "--use-pep517", "--use-feature ")


def package_name(requirement: str) -> str:
    match = NAME.match(requirement.split(" @ ", 1)[0])
    return match.group(1).lower().replace("_", "-") if match else ""


def version_tuple(text: str) -> tuple[int, ...]:
    out = []
    for part in re.split(r"[.+-]", text):
        if not part.isdigit():
            break
        out.append(int(part))
    return tuple(out)


def judge(requirement: str, path, span: Span, pin: str | None = None) -> Iterator[Finding]:
    """One requirement, as the review judges it.  ``pin``: the version uv.lock resolved it to, if known."""
    if GIT.search(requirement):
        yield DIRECT.at(path, span, msg("'{requirement}' installs from git: the review blocks the package (\"git-based install is not allowed\"); depend on a release from PyPI", requirement=requirement))
        return
    if DIRECT_URL.search(requirement):
        yield DIRECT.at(path, span, msg("'{requirement}' installs from a URL: the review blocks the package (\"direct URL install is not allowed\"); depend on a release from PyPI", requirement=requirement))
        return
    if requirement.startswith(("-e ", "--editable ")) or LOCAL_PATH.search(requirement):
        yield LOCAL.at(path, span, msg("'{requirement}' is an editable or local path install: the review asks a reviewer to approve it", requirement=requirement))
        return
    if requirement.startswith(OPTIONS) or requirement.startswith(("-r ", "--requirement ")):
        return
    name = package_name(requirement)
    if name in LARGE_PACKAGES:
        yield LARGE.at(path, span, msg("{name} is a very large dependency: the review asks a reviewer to approve it", name=name))
    if name == SDK_NAME:
        bound = SDK_BOUND.search(requirement)
        if bound is None or version_tuple(bound.group(1)) < MIN_SDK:
            yield SDK_VERSION.at(path, span, msg("'{requirement}' allows dify_plugin below 0.9.0: the review blocks the package (\"dify_plugin dependency must be >= 0.9.0\"); require dify_plugin>=0.9.0", requirement=requirement))
            return
    if not OPERATOR.search(requirement):
        fixes = ()
        if pin is not None:
            fixes = (Fix(msg("Pin {name} to {version} (the version uv.lock resolved)", name=name, version=pin), (TextEdit(path, span, f"{requirement}=={pin}"),)),)
        yield UNPINNED.at(path, span, msg("'{requirement}' has no version constraint: the review blocks the package (\"dependency has no version constraint\"); pin it, e.g. {name}==X.Y.Z", requirement=requirement, name=name or requirement), fixes=fixes)
    elif ONLY_LOWER.match(requirement):
        yield LOWER_BOUND.at(path, span, msg("'{requirement}' has only a lower bound: the review warns that any future release installs unreviewed; add an upper bound or pin it", requirement=requirement))


def locked_versions(package: PackageView) -> dict[str, str]:
    """name -> version from uv.lock, when the package folder has one."""
    if package.member("uv.lock") is None:
        return {}
    try:
        data = tomllib.loads(package.text("uv.lock") or "")
    except tomllib.TOMLDecodeError:
        return {}
    out = {}
    for entry in data.get("package", []) if isinstance(data.get("package"), list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("version"), str):
            out[entry["name"].lower().replace("_", "-")] = entry["version"]
    return out


def requirements(package: PackageView, name: str, seen: set[str], locked: dict[str, str]) -> Iterator[Finding]:
    if name in seen:
        return
    seen.add(name)
    text = package.text(name)
    if text is None:
        return
    path = package.path(name)
    folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
    for line_no, raw in enumerate(text.split("\n")):
        line = raw.split(" #", 1)[0].strip() if " #" in raw else raw.strip()
        if not line or line.startswith("#"):
            continue
        start = raw.index(line)
        span = Span.at(line_no, start, line_no, start + len(line))
        if line.startswith(("-r ", "--requirement ")):
            target = line.split(None, 1)[1].strip()
            parts: list[str] = []
            outside = target.startswith("/")
            for part in (folder + target).split("/"):
                if part in ("", "."):
                    continue
                if part == "..":
                    if not parts:
                        outside = True
                        break
                    parts.pop()
                else:
                    parts.append(part)
            included = "/".join(parts)
            if outside:
                yield INCLUDE.at(path, span, msg("'{target}' is outside the package: the review warns (\"referenced requirements file is outside the package\") and reads nothing from it", target=target))
            elif package.member(included) is None:
                yield INCLUDE.at(path, span, msg("'{target}' is not in the package: the review warns (\"referenced requirements file is missing\")", target=target))
            else:
                yield from requirements(package, included, seen, locked)
            continue
        yield from judge(line, path, span, locked.get(package_name(line)) if not OPERATOR.search(line) else None)


def pyproject_entries(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(the name or string to find in the file, the requirement as the review reads it)."""
    project = data.get("project")
    if isinstance(project, dict):
        for dep in project.get("dependencies") or []:
            if isinstance(dep, str):
                yield dep, dep
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for deps in optional.values():
                for dep in deps or []:
                    if isinstance(dep, str):
                        yield dep, dep
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for deps in groups.values():
            for dep in deps if isinstance(deps, list) else []:
                if isinstance(dep, str):
                    yield dep, dep
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
        group = poetry.get("group")
        if isinstance(group, dict):
            tables += [g.get("dependencies") for g in group.values() if isinstance(g, dict)]
        for i, table in enumerate(tables):
            if not isinstance(table, dict):
                continue
            for name, value in table.items():
                if i == 0 and name.lower() == "python":
                    continue
                yield name, poetry_requirement(name, value)


def poetry_requirement(name: str, value: Any) -> str:
    if isinstance(value, str):
        return f"{name}{value if value.startswith(('=', '<', '>', '~', '!')) else ' ' + value}"
    if isinstance(value, dict):
        if "git" in value:
            ref = value.get("rev") or value.get("tag") or value.get("branch") or ""
            return f"{name} @ git+{value['git']}{('@' + ref) if ref else ''}"
        if "url" in value:
            return f"{name} @ {value['url']}"
        if "path" in value:
            return f"{name} @ {value['path']}"
        version = value.get("version", "")
        return f"{name}{version if isinstance(version, str) else ''}"
    return name


def pyproject(package: PackageView) -> Iterator[Finding]:
    name = "pyproject.toml"
    text = package.text(name)
    if text is None:
        return
    path = package.path(name)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"at line (\d+), column (\d+)", str(exc))
        span = Span.at(int(where.group(1)) - 1, int(where.group(2)) - 1) if where else ZERO_SPAN
        yield UNREADABLE.at(path, span, msg("pyproject.toml is not valid TOML ({reason}): the review blocks the package (\"failed to parse pyproject.toml\")", reason=str(exc)))
        return
    index = LineIndex(text)
    searched_from: dict[str, int] = {}
    for needle, requirement in pyproject_entries(data):
        # Where the entry is written: the quoted string (or the Poetry key), the first one not yet used.
        span = ZERO_SPAN
        for pattern in (f'"{needle}"', f"'{needle}'", needle):
            at = text.find(pattern, searched_from.get(pattern, 0))
            if at >= 0:
                searched_from[pattern] = at + len(pattern)
                quote = 1 if pattern[0] in "\"'" and pattern != needle else 0
                span = index.span(at + quote, at + len(pattern) - quote)
                break
        yield from judge(requirement, path, span)


@package_check(UNPINNED, DIRECT, SDK_VERSION, LOWER_BOUND, LOCAL, LARGE, UNREADABLE, INCLUDE)
def package_dependencies(package: PackageView) -> Iterator[Finding]:
    if package.member("requirements.txt") is not None:
        locked = {} if package.is_archive else locked_versions(package)
        yield from requirements(package, "requirements.txt", set(), locked)
    if package.member("pyproject.toml") is not None:
        yield from pyproject(package)


RULES = (UNPINNED, DIRECT, SDK_VERSION, LOWER_BOUND, LOCAL, LARGE, UNREADABLE, INCLUDE)
