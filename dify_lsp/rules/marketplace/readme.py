"""README metadata the review demands: a README.md, a link to the plugin's source, English as the primary
language (other languages go to README.<locale>.md), and the sections a first-time user needs."""

from __future__ import annotations

import re
from typing import Iterator

from dify_lsp.findings import Finding, Severity
from dify_lsp.i18n import N_, Listing, Message, msg
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import define_rule
from dify_lsp.rules.marketplace.family import FAMILY, package_check
from dify_lsp.rules.marketplace.manifest import ALLOWED_SOURCE_HOSTS, SOURCE_LINK
from dify_lsp.rules.marketplace.package import PackageView
from dify_lsp.textpos import LineIndex, Span

MISSING = define_rule("DL635", "marketplace-readme-missing", "The package has no README.md, or it is empty: the review blocks it.", Severity.ERROR, FAMILY)
SOURCE = define_rule("DL636", "marketplace-readme-source-url", "README.md links no source repository on a host the review allows: the review blocks the package.", Severity.ERROR, FAMILY)
NOT_ENGLISH = define_rule("DL637", "marketplace-readme-language", "README.md has Chinese, Japanese or Korean text outside code blocks: the review requires English there and blocks the package.", Severity.ERROR, FAMILY)
LOCALE_NAME = define_rule("DL638", "marketplace-readme-locale-name", "A localized README is not named README.<locale>.md: the review asks for that name.", Severity.WARNING, FAMILY)
SECTIONS = define_rule("DL639", "marketplace-readme-section", "README.md seems to lack setup, usage, credential or connection instructions: the review asks a reviewer to look.", Severity.WARNING, FAMILY)

README = "README.md"
CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
CJK = re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF]+")
LOCALIZED = re.compile(r"^README[._-][A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)?\.md$")
WELL_NAMED = re.compile(r"^README\.[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)?\.md$")
REQUIRED_SECTIONS = (
    (N_("setup instructions"), ("setup", "install", "installation", "configure", "configuration", "getting started")),
    (N_("usage instructions"), ("usage", "use", "example", "examples", "workflow", "chatflow")),
    (N_("the APIs or credentials it needs"), ("api key", "apikey", "credential", "credentials", "token", "secret", "auth", "authentication", "authorization")),
    (N_("connection requirements"), ("connection", "connect", "endpoint", "base url", "host", "proxy", "network")),
)


def first_line(text: str) -> Span:
    return Span.at(0, 0, 0, len(text.split("\n", 1)[0]))


@package_check(MISSING, SOURCE, NOT_ENGLISH, LOCALE_NAME, SECTIONS)
def readme_metadata(package: PackageView) -> Iterator[Finding]:
    for member in package.members:
        if "/" not in member.name and member.name != README and LOCALIZED.match(member.name) and not WELL_NAMED.match(member.name):
            yield LOCALE_NAME.at(package.path(member.name), ZERO_SPAN, msg("{name}: the review asks for localized READMEs to be named README.<locale>.md (e.g. README.zh_Hans.md)", name=member.name))
    path = package.path(README)
    text = package.text(README) if package.member(README) is not None else None
    if text is None or not text.strip():
        where = path if text is not None else package.anchor
        yield MISSING.at(where, ZERO_SPAN, msg('the package has no README.md, or it is empty: the review blocks it ("missing required file: README.md"); describe the plugin, its setup and its source in English'))
        return
    if not SOURCE_LINK.search(text):
        yield SOURCE.at(path, first_line(text), msg("README.md links no source repository on an allowed host ({hosts}): the review blocks the package; add a line such as `Source: https://github.com/OWNER/REPO`", hosts=Listing(ALLOWED_SOURCE_HOSTS)))
    # Code blocks may hold any language (sample payloads); blank them out, keeping every offset.
    prose = CODE_BLOCK.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    runs = list(CJK.finditer(prose))
    if runs:
        count = sum(len(m.group(0)) for m in runs)
        first = runs[0]
        yield NOT_ENGLISH.at(path, LineIndex(text).span(first.start(), first.end()), msg(
            "README.md has {count} Chinese, Japanese or Korean characters outside code blocks: the review blocks the package (\"README.md primary content must be English\"); move that text to README.<locale>.md such as README.zh_Hans.md",
            count=count))
    lowered = text.lower()
    for section, words in REQUIRED_SECTIONS:
        if not any(word in lowered for word in words):
            yield SECTIONS.at(path, first_line(text), msg("README.md seems to lack {section}: the review asks a reviewer to look (\"README.md may be missing ...\")", section=Message(section)))


RULES = (MISSING, SOURCE, NOT_ENGLISH, LOCALE_NAME, SECTIONS)
