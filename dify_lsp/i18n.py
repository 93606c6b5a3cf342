"""Messages in the author's language: English (the source), Simplified Chinese and Japanese.

The texts are gettext catalogs (``dify_lsp/locales/<lang>/LC_MESSAGES/dify_lsp.mo``, compiled from the
``.po`` files beside them by ``python -m dify_lsp.i18n_catalogs compile``), read with Python's
:mod:`gettext`; the English text itself is the message id.

Everything below the presentation edge stays English: a rule builds its message with :func:`msg`, which
is an English ``str`` that also keeps its template and arguments, so the checker, the cache and every
output format work on it unchanged, and the language server or the CLI renders it with :func:`tr` in
the language the user asked for.  Static texts kept as data (rule descriptions, schema and ``session.*``
docs) are translated the same way at the edge.  Rule codes, YAML keys, Python names and JSON field names
never change with the language.
"""

from __future__ import annotations

import gettext
import os
import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

DOMAIN = "dify_lsp"
ENGLISH = "en_US"
# The shipped catalogs, named as Dify names its languages in plugin YAML (`en_US`, `zh_Hans`, `ja_JP`).
LANGUAGES = (ENGLISH, "zh_Hans", "ja_JP")
LOCALE_DIR = Path(__file__).with_name("locales")

# Environment variables that name the user's language, in gettext's order of precedence.
ENV_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_FIELD = string.Formatter()


def normalize(tag: str | None) -> str | None:
    """The shipped language a locale tag asks for, or None when it asks for another one.

    Accepts BCP 47 (``zh-CN``, ``zh-Hans``, ``ja``), POSIX (``zh_CN.UTF-8``, ``ja_JP@x``) and Dify's own
    names (``zh_Hans``, ``ja_JP``, ``en_US``), in any case.  Traditional Chinese (``zh-TW``, ``zh-HK``,
    ``zh-Hant``) is not Simplified Chinese: it gets English.
    """
    if not isinstance(tag, str):
        return None
    t = tag.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if not t:
        return None
    parts = t.split("_")
    lang = parts[0]
    if lang in ("c", "posix", "en"):
        return ENGLISH
    if lang == "zh":
        rest = set(parts[1:])
        if rest & {"hant", "tw", "hk", "mo"}:
            return None
        return "zh_Hans"
    if lang == "ja":
        return "ja_JP"
    return None


def choose(*candidates: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The language to speak: the first candidate that is set decides (an unknown one means English);
    with none set, the environment (``LANGUAGE`` may list several, ``de:zh_CN``); else English."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip() and candidate.strip().lower() != "auto":
            return normalize(candidate) or ENGLISH
    env = os.environ if environ is None else environ
    for var in ENV_VARS:
        value = env.get(var, "").strip()
        if not value:
            continue
        for item in value.split(":"):
            found = normalize(item)
            if found:
                return found
        return ENGLISH
    return ENGLISH


@lru_cache(maxsize=None)  # one per shipped language: the catalogs are files of the package
def catalog(language: str) -> gettext.NullTranslations:
    if language == ENGLISH or language not in LANGUAGES:
        return gettext.NullTranslations()
    try:
        with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as fh:
            return gettext.GNUTranslations(fh)
    except OSError:  # a build without compiled catalogs still works, in English
        return gettext.NullTranslations()


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields of a message template."""
    try:
        return {name for _, name, _, _ in _FIELD.parse(template) if name is not None}
    except ValueError:
        return set()


class Message(str):
    """An English message that remembers how it was made, so it can be said in another language.

    ``Message("Unknown key `{key}`", key="x")`` is the ``str`` "Unknown key `x`"; :meth:`translate`
    formats the template's translation with the same arguments (arguments that are messages themselves
    are translated too; wrap a static English word passed as an argument in ``Message`` / ``N_`` + ``msg``).
    """

    template: str
    args: dict[str, Any]

    def __new__(cls, template: str, /, **args: Any) -> "Message":
        self = super().__new__(cls, template.format(**args) if args else template)
        self.template = template
        self.args = args
        return self

    def __reduce__(self):  # pickled in the findings cache
        return (_restore, (self.template, self.args))

    def translate(self, language: str) -> str:
        if language == ENGLISH or language not in LANGUAGES:
            return str(self)
        text = catalog(language).gettext(self.template)
        if not self.args:  # a whole text (e.g. a schema doc): nothing to fill in
            return text
        # Only arguments that are messages themselves are translated: a plain one is a name from the
        # plugin (a key, a parameter), which must reach the user as written even when it is also an English word.
        args = {k: v.translate(language) if isinstance(v, Message) else v for k, v in self.args.items()}
        try:
            return fill_cjk(text, args)
        except (KeyError, IndexError, ValueError, AttributeError):  # a broken translation: say it in English
            return str(self)


# Han, kana, CJK punctuation and full-width forms: between two of these a space is a typo.
CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def fill_cjk(template: str, args: Mapping[str, Any]) -> str:
    """``template.format(**args)`` for a Chinese or Japanese template, minding the spaces at each placeholder.

    A translation puts a space between CJK text and a placeholder, right for a Latin value
    (``工具 `search` 的参数``) and wrong for a CJK one (``工具提供者 中有``): a space at a placeholder is
    dropped when the characters on both sides of it are CJK, and an empty value leaves no doubled space.
    The template's own text and the values themselves are kept as written.
    """
    out: list[str] = []

    def join(piece: str, after_empty: bool) -> None:
        if out and piece:
            prev = out[-1]
            if after_empty and prev.endswith(" ") and piece.startswith(" "):
                piece = piece.lstrip(" ")
            left = prev.rstrip(" ")[-1:]
            right = piece.lstrip(" ")[:1]
            if (prev.endswith(" ") or piece.startswith(" ")) and left and right and CJK.match(left) and CJK.match(right):
                out[-1] = prev.rstrip(" ")
                piece = piece.lstrip(" ")
        if piece:
            out.append(piece)

    empty = False
    for literal, name, spec, conversion in _FIELD.parse(template):
        join(literal, empty)
        if name is None:
            continue
        value, _ = _FIELD.get_field(name, (), args)
        value = _FIELD.format_field(_FIELD.convert_field(value, conversion), spec or "")
        empty = not value
        join(value, False)
    return "".join(out)


def _restore(template: str, args: dict[str, Any]) -> Message:
    return Message(template, **args)


def msg(template: str, /, **args: Any) -> Message:
    """A rule message: English now, the user's language at the edge."""
    return Message(template, **args)


class Listing(Message):
    """Items (names, or messages said in the reader's language) joined as a list: "a, b, c" in English,
    "a、b、c" in Chinese and Japanese; with ``last`` ("or", "and") the final two are joined by that word."""

    def __new__(cls, items, last: str | None = None) -> "Listing":
        items = list(items)
        self = Message.__new__(cls, _join_items([str(i) for i in items], ", ", last and f" {last} "))
        self.items, self.last = items, last
        return self

    def __reduce__(self):
        return (Listing, (self.items, self.last))

    def translate(self, language: str) -> str:
        if language == ENGLISH or language not in LANGUAGES:
            return str(self)
        said = [i.translate(language) if isinstance(i, Message) else str(i) for i in self.items]
        if self.last in _LAST and len(said) > 1:
            return Message(_LAST[self.last], first="、".join(said[:-1]), second=said[-1]).translate(language)
        return "、".join(said)


# How the last two items of a list are joined, as whole catalog texts.
_LAST = {"or": "{first} or {second}", "and": "{first} and {second}"}


def _join_items(items: list[str], sep: str, last: str | None) -> str:
    if last and len(items) > 1:
        return sep.join(items[:-1]) + last + items[-1]
    return sep.join(items)


def N_(text: str) -> str:
    """Marks a static English text for the catalogs (translated later with :func:`tr`)."""
    return text


# The texts Listing says its last two items with (marked here so the catalogs collect them).
N_("{first} or {second}")
N_("{first} and {second}")


def tr(text: str | None, language: str) -> str:
    """``text`` in ``language``: a :class:`Message` is formatted from its translated template, any other
    text is looked up whole; what the catalog does not have stays English."""
    if text is None:
        return ""
    if isinstance(text, Message):
        return text.translate(language)
    if language == ENGLISH or not text:
        return str(text)
    return catalog(language).gettext(text)


def pick_translated(value: Any, language: str) -> str | None:
    """From a plugin's own translated text (``{en_US: ..., zh_Hans: ...}``) the entry for ``language``,
    else the ``en_US`` one, else the first."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        return None
    texts = {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str) and v.strip()}
    if not texts:
        return None
    for key in (language, ENGLISH):
        if key in texts:
            return texts[key]
    for key, text in texts.items():
        if normalize(key) == language:
            return text
    return next(iter(texts.values()))
