"""Executables and native binaries in the package, known by their first bytes, not only their names."""

from __future__ import annotations

import re
from typing import Iterator

from dify_lsp.findings import Finding, Severity
from dify_lsp.i18n import N_, Message, msg
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import define_rule
from dify_lsp.rules.marketplace.family import FAMILY, package_check
from dify_lsp.rules.marketplace.package import PackageView

BINARY = define_rule("DL615", "package-executable-binary", "An executable or native library (ELF, PE, Mach-O, .so, .dll, .exe, ...) is in the package: the review blocks it.", Severity.ERROR, FAMILY)
EXECUTABLE = define_rule("DL616", "package-executable-file", "A shell script, installer-like file or a file with the executable bit is in the package: the review asks a reviewer to look at it.", Severity.WARNING, FAMILY)

SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn"})
MAGIC = (
    (b"\x7fELF", N_("an ELF executable or shared object")),
    (b"MZ", N_("a Windows PE executable or DLL")),
    (b"\xfe\xed\xfa\xce", N_("a Mach-O binary")),
    (b"\xfe\xed\xfa\xcf", N_("a Mach-O binary")),
    (b"\xce\xfa\xed\xfe", N_("a Mach-O binary")),
    (b"\xcf\xfa\xed\xfe", N_("a Mach-O binary")),
    (b"\xca\xfe\xba\xbe", N_("a Mach-O universal binary")),
    (b"\xca\xfe\xba\xbf", N_("a Mach-O universal binary")),
)
BINARY_SUFFIXES = {
    ".dll": N_("a Windows dynamic library"),
    ".dylib": N_("a macOS dynamic library"),
    ".exe": N_("a Windows executable"),
    ".node": N_("a native Node.js addon"),
    ".pyd": N_("a native Python extension"),
    ".so": N_("a native shared library"),
}
REVIEW_SUFFIXES = {
    ".app": N_("an application bundle"),
    ".bin": N_("a binary-like file"),
    ".command": N_("a macOS command script"),
    ".run": N_("an installer-like file"),
    ".sh": N_("a shell script"),
}
DAEMON_BINARY = re.compile(r"^(?:dify-plugin-linux-.+|dify-plugin-darwin-.+|dify-plugin-windows-.+\.exe)$", re.IGNORECASE)


@package_check(BINARY, EXECUTABLE)
def package_binaries(package: PackageView) -> Iterator[Finding]:
    for member in package.members:
        if any(part in SKIPPED_DIRS for part in member.parts[:-1]):
            continue
        path = package.path(member.name)
        # Inside an unpacked wheel a compiled extension is expected: the review only warns there.
        in_wheel = any(part.endswith(".whl") for part in member.parts[:-1])
        rule = EXECUTABLE if in_wheel else BINARY
        what: str | None = None
        if DAEMON_BINARY.match(member.filename):
            what = N_("the Dify plugin daemon / CLI binary")
            rule = BINARY
        else:
            head = package.head(member.name, 8)
            what = next((kind for magic, kind in MAGIC if head.startswith(magic)), None) or BINARY_SUFFIXES.get(member.suffix)
        if what is not None:
            if rule is BINARY:
                message = msg("{name} is {what}: the review blocks the package; install native code through a dependency instead", name=member.name, what=Message(what))
            else:
                message = msg("{name} is {what}: the review asks a reviewer to look at it", name=member.name, what=Message(what))
            yield rule.at(path, ZERO_SPAN, message)
            continue
        if member.suffix in REVIEW_SUFFIXES:
            yield EXECUTABLE.at(path, ZERO_SPAN, msg("{name} is {what}: the review asks a reviewer to look at it", name=member.name, what=Message(REVIEW_SUFFIXES[member.suffix])))
        elif member.mode & 0o111:
            yield EXECUTABLE.at(path, ZERO_SPAN, msg("{name} has the executable bit: the review asks a reviewer to look at it; package it without the bit unless it must run", name=member.name))


RULES = (BINARY, EXECUTABLE)
