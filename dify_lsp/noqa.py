"""`# noqa` comments: which lines silence which codes.

The same comment works in Python and in YAML (both use ``#``): a bare
``# noqa`` silences every dify-lsp finding on its line, ``# noqa: DL209`` or
``# noqa: DL209, DL207`` only those codes.  Codes of other tools in the same
comment (``# noqa: E501, DL209``) are left to those tools.  As in flake8, the
comment is found by its text on the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dify_lsp.textpos import Span

_NOQA = re.compile(
    r"#\s*noqa(?P<colon>\s*:\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")


@dataclass(frozen=True, slots=True)
class NoqaCode:
    code: str  # upper case
    span: Span  # where the code is written


@dataclass(frozen=True, slots=True)
class NoqaComment:
    line: int  # 0-based
    span: Span  # the whole comment, from '#'
    codes: tuple[NoqaCode, ...]  # empty: a bare noqa

    @property
    def bare(self) -> bool:
        return not self.codes

    def silences(self, code: str) -> bool:
        return self.bare or any(c.code == code for c in self.codes)


def noqa_comments(text: str) -> dict[int, NoqaComment]:
    """The noqa comment of each line of ``text`` that has one (0-based line numbers)."""
    out: dict[int, NoqaComment] = {}
    if "noqa" not in text and "NOQA" not in text.upper():
        return out
    for lineno, line in enumerate(text.split("\n")):
        if "noqa" not in line.lower():
            continue
        for m in _NOQA.finditer(line):
            # A '#' inside a word (a URL fragment, `a#noqa`) is not a comment.
            if m.start() > 0 and not line[m.start() - 1].isspace():
                continue
            codes: list[NoqaCode] = []
            if m.group("codes"):
                base = m.start("codes")
                for cm in _CODE.finditer(m.group("codes")):
                    codes.append(NoqaCode(cm.group().upper(), Span.at(lineno, base + cm.start(), lineno, base + cm.end())))
            out[lineno] = NoqaComment(lineno, Span.at(lineno, m.start(), lineno, m.end()), tuple(codes))
            break
    return out
