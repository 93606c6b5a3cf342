"""How `# noqa` comments are read (the CLI and server tests in test_noqa.py use them end to end)."""

from dify_lsp.noqa import noqa_comments
from dify_lsp.textpos import Span


def test_codes_spans_and_forms():
    text = "a = 1  # noqa: DL209, dl207,E501\nb = 2  # NOQA\nc = 3  #noqa:DL101\n"
    comments = noqa_comments(text)
    assert sorted(comments) == [0, 1, 2]
    first = comments[0]
    assert [c.code for c in first.codes] == ["DL209", "DL207", "E501"]
    assert first.codes[0].span == Span.at(0, 15, 0, 20)
    assert first.span.start.col == 7 and first.silences("DL207") and not first.silences("DL208")
    assert comments[1].bare and comments[1].silences("DL001")
    assert [c.code for c in comments[2].codes] == ["DL101"]


def test_what_is_not_a_noqa_comment():
    text = 'url: https://example.com/page#noqa\nname: "no noqa here"\nx = "a"  # a comment that says noqa later\n'
    assert noqa_comments(text) == {}


def test_an_explanation_after_the_colon_is_a_bare_noqa():
    (comment,) = noqa_comments("print(x)  # noqa: this is deliberate\n").values()
    assert comment.bare
