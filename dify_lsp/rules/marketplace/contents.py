"""What the package holds: unpackable at all, safe paths, development artifacts, sizes, file count."""

from __future__ import annotations

from typing import Iterator

from dify_lsp.findings import Finding, Severity
from dify_lsp.i18n import msg
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import define_rule
from dify_lsp.rules.marketplace.family import FAMILY, package_check
from dify_lsp.rules.marketplace.package import BLOCKED_DIR_NAMES, PackageView

MAX_PACKAGE_BYTES = 50 * 1024 * 1024
MAX_PACKAGE_FILES = 5000
REVIEW_DIR_NAMES = frozenset({"build", "dist"})
BLOCKED_FILE_NAMES = frozenset({".DS_Store", ".gitconfig", "Thumbs.db", "desktop.ini", "id_rsa"})
ENV_EXAMPLE_NAMES = frozenset({".env.example", ".env.sample", ".env.template"})
BLOCKED_SUFFIXES = frozenset({".key", ".pem", ".p12", ".pfx", ".pyc", ".pyo", ".log", ".tmp", ".swp", ".swo", ".bak"})
ARCHIVE_SUFFIXES = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"})

UNREADABLE = define_rule("DL601", "package-unreadable", "The .difypkg is not a zip archive the review can unpack: the review stops there.", Severity.ERROR, FAMILY)
UNSAFE_PATH = define_rule("DL602", "package-unsafe-path", "A package member's path is absolute or climbs out with `..`: the review refuses to unpack the package.", Severity.ERROR, FAMILY)
BLOCKED = define_rule("DL603", "package-blocked-artifact", "A development artifact the review blocks is in the package (.git, .venv, __pycache__, .env, *.pyc, *.log, private keys, ...).", Severity.ERROR, FAMILY)
REVIEW = define_rule("DL604", "package-review-artifact", "A build/ or dist/ folder or an archive file is in the package: the review asks a reviewer to look at it.", Severity.WARNING, FAMILY)
TOO_LARGE = define_rule("DL605", "package-too-large", "The .difypkg is larger than 50 MB: the review blocks it.", Severity.ERROR, FAMILY)
UNPACKED_TOO_LARGE = define_rule("DL606", "package-unpacked-too-large", "The package's files add up to more than 50 MB unpacked: the review blocks it.", Severity.ERROR, FAMILY)
TOO_MANY_FILES = define_rule("DL607", "package-too-many-files", "The package holds more than 5000 files: the review blocks it.", Severity.ERROR, FAMILY)
NOT_READ = define_rule("DL608", "package-member-not-read", "A package member dify-lsp did not inflate (a zip bomb's ratio, a broken entry, past the read budget), so its content was not checked.", Severity.WARNING, FAMILY)


def env_file(name: str) -> bool:
    return name not in ENV_EXAMPLE_NAMES and (name == ".env" or name.startswith(".env."))


def blocked_folder(parts: tuple[str, ...]) -> int | None:
    """The index of the first folder of ``parts`` (a member's path) the review blocks."""
    for i, part in enumerate(parts[:-1]):
        if part in BLOCKED_DIR_NAMES:
            return i
    return None


@package_check(UNREADABLE, UNSAFE_PATH, BLOCKED, REVIEW, TOO_LARGE, UNPACKED_TOO_LARGE, TOO_MANY_FILES)
def package_contents(package: PackageView) -> Iterator[Finding]:
    if package.broken is not None:
        yield UNREADABLE.at(package.anchor, ZERO_SPAN, msg("the review cannot unpack this package ({reason}); build it again with `dify plugin package`", reason=package.broken))
        return
    for name in package.unsafe:
        yield UNSAFE_PATH.at(package.anchor, ZERO_SPAN, msg('member \'{name}\' would be unpacked outside the package folder: the review stops with "Unsafe path in package" and checks nothing else; rebuild the package from the plugin folder', name=name))
    if package.unsafe:
        return
    if package.file_size is not None and package.file_size > MAX_PACKAGE_BYTES:
        yield TOO_LARGE.at(package.anchor, ZERO_SPAN, msg('the package is {size} bytes: the review blocks it ("package file size exceeds 50 MB"); leave out large files with .difyignore', size=package.file_size))

    for folder in sorted(package.dirs):
        parts = tuple(folder.split("/"))
        outer = blocked_folder((*parts, ""))
        if outer is not None and outer < len(parts) - 1:
            continue  # inside a blocked folder: the review never walks there
        if parts[-1] in BLOCKED_DIR_NAMES:
            yield BLOCKED.at(package.path(folder), ZERO_SPAN, msg('{folder}/ is in the package: the review blocks it ("blocked directory"); add `{name}/` to .difyignore', folder=folder, name=parts[-1]))
        elif parts[-1] in REVIEW_DIR_NAMES:
            yield REVIEW.at(package.path(folder), ZERO_SPAN, msg("{folder}/ is in the package: the review asks a reviewer to look at it; add it to .difyignore unless the plugin needs it", folder=folder))

    count = 0
    total = 0
    for member in package.members:
        if blocked_folder(member.parts) is not None:
            continue
        count += 1
        total += member.size
        name = member.filename
        if name in BLOCKED_FILE_NAMES or env_file(name):
            yield BLOCKED.at(package.path(member.name), ZERO_SPAN, msg('{name} is in the package: the review blocks it ("blocked file"); add it to .difyignore', name=member.name))
        elif member.suffix in BLOCKED_SUFFIXES:
            yield BLOCKED.at(package.path(member.name), ZERO_SPAN, msg('{name} is in the package: the review blocks *{suffix} files ("blocked file suffix"); add `*{suffix}` to .difyignore', name=member.name, suffix=member.suffix))
        elif member.suffix in ARCHIVE_SUFFIXES:
            yield REVIEW.at(package.path(member.name), ZERO_SPAN, msg("{name} is an archive: the review asks a reviewer to look at it; ship its contents or leave it out", name=member.name))
    if total > MAX_PACKAGE_BYTES:
        yield UNPACKED_TOO_LARGE.at(package.anchor, ZERO_SPAN, msg('the package\'s files add up to {size} bytes unpacked: the review blocks it ("package contents size exceeds 50 MB"); leave out large files with .difyignore', size=total))
    if count > MAX_PACKAGE_FILES:
        yield TOO_MANY_FILES.at(package.anchor, ZERO_SPAN, msg('the package holds {count} files: the review blocks more than 5000 ("package contains too many files"); leave out vendored or generated files with .difyignore', count=count))


def unread_members(package: PackageView) -> Iterator[Finding]:
    """Runs after every other check: the members they could not read, and why."""
    for name, why in sorted(package.unread.items()):
        yield NOT_READ.at(package.path(name), ZERO_SPAN, msg("{name} was not checked: {why}", name=name, why=why))


RULES = (UNREADABLE, UNSAFE_PATH, BLOCKED, REVIEW, TOO_LARGE, UNPACKED_TOO_LARGE, TOO_MANY_FILES, NOT_READ)
