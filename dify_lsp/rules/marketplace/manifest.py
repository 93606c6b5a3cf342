"""Manifest metadata the review demands: required fields, a non-reserved author, a source repository on an
allowed host, a contact e-mail, a privacy policy (``privacy`` and a filled-in ``PRIVACY.md``), and an icon
in ``_assets/`` that is not the template's."""

from __future__ import annotations

import re
from typing import Iterator

from dify_lsp.findings import Finding, Fix, Severity, TextEdit
from dify_lsp.i18n import Listing, msg
from dify_lsp.index import ZERO_SPAN
from dify_lsp.rules import define_rule
from dify_lsp.rules.marketplace.family import FAMILY, package_check
from dify_lsp.rules.marketplace.package import PackageView
from dify_lsp.textpos import LineIndex, Pos, Span
from dify_lsp.yamlpos import YMap, YNode, YScalar, YSeq, parse_yaml

REQUIRED = define_rule("DL620", "marketplace-manifest-field", "manifest.yaml lacks a field the review requires (repo, contact, privacy, label.en_US, meta.runner.*, ...): the review blocks the package.", Severity.ERROR, FAMILY)
AUTHOR = define_rule("DL621", "marketplace-author-reserved", "The manifest's author contains 'langgenius' or 'dify', which are reserved for Dify's own plugins: the review blocks the package.", Severity.ERROR, FAMILY)
REPO = define_rule("DL622", "marketplace-repo-host", "The manifest's repo is not a URL of a source repository on a host the review allows (github.com, gitlab.com, ...): the review blocks the package.", Severity.ERROR, FAMILY)
CONTACT = define_rule("DL623", "marketplace-contact-email", "The manifest's contact is not an e-mail address: the review blocks the package.", Severity.ERROR, FAMILY)
PRIVACY_REFERENCE = define_rule("DL624", "marketplace-privacy-reference", "The manifest's privacy is neither an http(s) URL nor a file inside the package: the review blocks the package.", Severity.ERROR, FAMILY)
PRIVACY_FILE = define_rule("DL625", "marketplace-privacy-file-missing", "The package has no PRIVACY.md at its root: the review blocks it.", Severity.ERROR, FAMILY)
PRIVACY_TEMPLATE = define_rule("DL626", "marketplace-privacy-template", "The privacy policy file is empty or still holds the template's placeholder text: the review blocks the package.", Severity.ERROR, FAMILY)
PRIVACY_DISCLOSURE = define_rule("DL627", "marketplace-privacy-disclosure", "The privacy policy says nothing about collecting, storing, logging or sharing data: the review asks a reviewer to read it.", Severity.WARNING, FAMILY)
ICON = define_rule("DL628", "marketplace-icon", "The manifest's icon is not in _assets/ or is the plugin template's icon: the Pre Check Plugin workflow fails.", Severity.ERROR, FAMILY)
MINIMUM_DIFY = define_rule("DL629", "marketplace-minimum-dify-version", "manifest.yaml has no meta.minimum_dify_version: the review recommends one.", Severity.WARNING, FAMILY)

MANIFEST = "manifest.yaml"
PRIVACY_MD = "PRIVACY.md"
REQUIRED_FIELDS = (
    ("author",), ("name",), ("version",), ("type",), ("icon",), ("plugins",), ("privacy",), ("repo",), ("contact",),
    ("label", "en_US"), ("description", "en_US"), ("meta", "version"), ("meta", "arch"),
    ("meta", "runner", "language"), ("meta", "runner", "version"), ("meta", "runner", "entrypoint"),
)
RESERVED_AUTHORS = ("langgenius", "dify")
ALLOWED_SOURCE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "gitee.com", "codeberg.org", "git.sr.ht", "gitlab.anchnet.com")
_HOSTS = "|".join(re.escape(h) for h in ALLOWED_SOURCE_HOSTS)
SOURCE_URL = re.compile(rf"^https?://(?:www\.)?(?:{_HOSTS})/[^\s)>\"]+$", re.IGNORECASE)
SOURCE_LINK = re.compile(rf"https?://(?:www\.)?(?:{_HOSTS})/[^\s)>\"]+", re.IGNORECASE)
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
PRIVACY_TEMPLATE_MARKERS = ("please fill in the privacy policy",)
PRIVACY_KEYWORDS = (
    "collect", "collection", "personal data", "user data", "data collected", "store", "storage", "retain", "retention",
    "persist", "log", "logging", "third party", "third-party", "share", "send", "transmit", "external service",
)
TEMPLATE_ICON_MARKER = "DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE"
# The plugin template's default icon; the workflow compares icons with all whitespace removed.
TEMPLATE_ICON = "".join("""
<svg width="100" height="100" xmlns="http://www.w3.org/2000/svg">
  <path d="M20 20 V80 M20 20 H60 Q80 20 80 40 T60 60 H20" fill="none" stroke="black" stroke-width="5"/>
</svg>""".split())


def value_text(node: YNode | None) -> str:
    """The field as the review reads it (``yq -r '.f // ""'``): empty when missing, null, false or ''."""
    if node is None:
        return ""
    if isinstance(node, YScalar):
        if node.value is None or node.value is False:
            return ""
        return str(node.raw).strip()
    return "[]" if isinstance(node, YSeq) else "{}"


def lookup(root: YMap, keys: tuple[str, ...]) -> tuple[YNode | None, Span]:
    """The field's node, and where a finding about it goes: its value, else the nearest key above it that
    exists, else the manifest's first key."""
    node: YNode | None = root
    where = root.pairs[0].key.span if root.pairs else ZERO_SPAN
    for key in keys:
        pair = node.pair(key) if isinstance(node, YMap) else None
        if pair is None:
            return None, where
        where = pair.key.span
        node = pair.value
    return node, where


def manifest_root(package: PackageView) -> YMap | None:
    text = package.text(MANIFEST)
    if text is None:
        return None
    doc = parse_yaml(text)
    return doc.root if isinstance(doc.root, YMap) else None


@package_check(REQUIRED, AUTHOR, REPO, CONTACT, PRIVACY_REFERENCE, PRIVACY_FILE, PRIVACY_TEMPLATE, PRIVACY_DISCLOSURE, ICON, MINIMUM_DIFY)
def manifest_metadata(package: PackageView) -> Iterator[Finding]:
    path = package.path(MANIFEST)
    if package.member(MANIFEST) is None:
        yield REQUIRED.at(package.anchor, ZERO_SPAN, msg('the package has no manifest.yaml: the review blocks it ("missing required file: manifest.yaml")'))
        return
    root = manifest_root(package)
    if root is None:
        if package.is_archive:  # in a folder, the YAML rules say what is wrong with it
            yield REQUIRED.at(path, ZERO_SPAN, msg('manifest.yaml is not a YAML mapping: the review blocks the package ("failed to parse manifest.yaml")'))
        return
    values: dict[tuple[str, ...], tuple[str, YNode | None, Span]] = {}
    for keys in REQUIRED_FIELDS:
        node, where = lookup(root, keys)
        value = value_text(node)
        values[keys] = (value, node, node.span if node is not None and value else where)
        if not value:
            field_name = ".".join(keys)
            fixes = ()
            if keys == ("privacy",) and node is None and package.member(PRIVACY_MD) is not None and not package.is_archive:
                fixes = tuple(privacy_fix(package, root))
            yield REQUIRED.at(path, where, msg('manifest.yaml has no `{field}`: the review blocks the package ("missing required field: {field}"); {hint}',
                                                field=field_name, hint=field_hint(keys)), fixes=fixes)

    author, _, author_span = values[("author",)]
    for word in RESERVED_AUTHORS:
        if word in author:
            yield AUTHOR.at(path, author_span, msg("author '{author}' contains '{word}', which only Dify's own plugins may use: the review blocks the package; use your own name or organization", author=author, word=word))
            break

    repo, _, repo_span = values[("repo",)]
    if repo and not SOURCE_URL.search(repo):
        yield REPO.at(path, repo_span, msg("repo '{repo}' is not a source repository URL on an allowed host ({hosts}): the review blocks the package; give the https URL of the plugin's repository", repo=repo, hosts=Listing(ALLOWED_SOURCE_HOSTS)))

    contact, _, contact_span = values[("contact",)]
    if contact and not EMAIL.match(contact):
        yield CONTACT.at(path, contact_span, msg("contact '{contact}' is not an e-mail address: the review blocks the package (\"contact must be a valid email address\")", contact=contact))

    privacy, _, privacy_span = values[("privacy",)]
    if package.member(PRIVACY_MD) is None:
        yield PRIVACY_FILE.at(path, privacy_span, msg('the package has no PRIVACY.md: the review blocks it ("missing required file: PRIVACY.md"); write what data the plugin collects, stores or sends, even if none'))
    if privacy:
        yield from privacy_policy(package, path, privacy, privacy_span)

    yield from icon(package, path, *values[("icon",)])

    node, where = lookup(root, ("meta", "minimum_dify_version"))
    if not value_text(node):
        yield MINIMUM_DIFY.at(path, where, msg("meta.minimum_dify_version is not set: the review recommends naming the oldest Dify version the plugin works with"))


def field_hint(keys: tuple[str, ...]) -> str:
    if keys == ("repo",):
        return msg("add `repo:` with the https URL of the plugin's source repository")
    if keys == ("contact",):
        return msg("add `contact:` with an e-mail address users can write to")
    if keys == ("privacy",):
        return msg("add `privacy: PRIVACY.md` and write the policy in that file")
    return msg("add it")


def privacy_fix(package: PackageView, root: YMap) -> Iterator[Fix]:
    text = package.text(MANIFEST) or ""
    if not root.pairs or root.span.start.col != 0:
        return
    index = LineIndex(text)
    last = root.pairs[-1].value.span.end
    line = last.line + 1 if last.col > 0 else last.line
    if line >= index.line_count:
        pos = index.pos(len(text))
        new = ("" if text.endswith("\n") else "\n") + "privacy: PRIVACY.md\n"
    else:
        pos = Pos(line, 0)
        new = "privacy: PRIVACY.md\n"
    yield Fix(msg("Add `privacy: PRIVACY.md` to the manifest"), (TextEdit(package.path(MANIFEST), Span(pos, pos), new),))


def privacy_policy(package: PackageView, path, privacy: str, span: Span) -> Iterator[Finding]:
    if privacy.startswith(("http://", "https://")):
        return
    if SCHEME.match(privacy):
        yield PRIVACY_REFERENCE.at(path, span, msg("privacy '{privacy}' is a URL that is not http(s): the review blocks the package; link an https page or name a file in the package", privacy=privacy))
        return
    reference = privacy[2:] if privacy.startswith("./") else privacy
    parts = [p for p in reference.replace("\\", "/").split("/") if p not in ("", ".")]
    if reference.startswith("/") or ".." in parts:
        yield PRIVACY_REFERENCE.at(path, span, msg("privacy '{privacy}' points outside the package: the review blocks it; name a file inside the package such as PRIVACY.md", privacy=privacy))
        return
    name = "/".join(parts)
    if package.member(name) is None:
        yield PRIVACY_REFERENCE.at(path, span, msg("privacy '{privacy}' names a file that is not in the package: the review blocks it (\"privacy references missing file\")", privacy=privacy))
        return
    text = package.text(name) or ""
    lowered = text.lower()
    policy = package.path(name)
    if not lowered.strip():
        yield PRIVACY_TEMPLATE.at(policy, ZERO_SPAN, msg("{name} is empty: the review blocks the package (\"privacy policy file is empty\"); write what data the plugin collects, stores or sends", name=name))
        return
    for marker in PRIVACY_TEMPLATE_MARKERS:
        at = lowered.find(marker)
        if at >= 0:
            index = LineIndex(text)
            yield PRIVACY_TEMPLATE.at(policy, index.span(at, at + len(marker)), msg("{name} still holds the template's placeholder: the review blocks the package (\"privacy policy file still contains template placeholder text\"); replace it with the plugin's real policy", name=name))
            return
    if not any(word in lowered for word in PRIVACY_KEYWORDS):
        yield PRIVACY_DISCLOSURE.at(policy, ZERO_SPAN, msg("{name} does not say whether the plugin collects, stores, logs or shares data: the review asks a reviewer to read it; say so, even if it collects nothing", name=name))


def icon(package: PackageView, path, value: str, node: YNode | None, span: Span) -> Iterator[Finding]:
    if not value:
        return  # the missing field is reported above
    name = f"_assets/{value}"
    if package.member(name) is None:
        if package.is_archive:  # in a folder, DL002 reports a missing icon already
            yield ICON.at(path, span, msg("icon '{icon}' is not in _assets/: the Pre Check Plugin workflow fails (\"Plugin icon file not found\")", icon=value))
        return
    data = package.read(name, 1024 * 1024) or b""
    text = data.decode("utf-8", errors="ignore")
    if TEMPLATE_ICON_MARKER in text or "".join(text.split()) == TEMPLATE_ICON:
        yield ICON.at(path, span, msg("icon '{icon}' is the plugin template's icon: the Pre Check Plugin workflow fails; draw the plugin's own icon", icon=value))


RULES = (REQUIRED, AUTHOR, REPO, CONTACT, PRIVACY_REFERENCE, PRIVACY_FILE, PRIVACY_TEMPLATE, PRIVACY_DISCLOSURE, ICON, MINIMUM_DIFY)
