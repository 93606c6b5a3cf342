from dify_lsp.textpos import LineIndex, Pos, Span, utf16_col
from dify_lsp.yamlpos import YMap, YNode, YPair, YScalar, YSeq, parse_yaml


# The chain of nodes (outermost first) whose span holds a position, as an editor feature would walk it.
def node_at(root: YNode | None, pos: Pos) -> list[YNode | YPair]:
    """The chain of nodes (outermost first) whose span holds ``pos``.

    Mapping pairs appear in the chain so callers can tell key from value.
    """
    chain: list[YNode | YPair] = []
    node = root
    while node is not None:
        chain.append(node)
        nxt: YNode | None = None
        if isinstance(node, YMap):
            for p in node.pairs:
                if p.key.span.start <= pos <= p.value.span.end or p.key.span.contains(pos):
                    chain.append(p)
                    nxt = p.key if p.key.span.contains(pos) else p.value
                    break
        elif isinstance(node, YSeq):
            for item in node.items:
                if item.span.contains(pos):
                    nxt = item
                    break
        if nxt is node:
            break
        node = nxt
    return chain


def test_spans_count_code_points_on_lines_with_emoji_and_cjk():
    doc = parse_yaml('label: "😀 中文"\nname: 工具😀 x\n')
    assert doc.ok
    root = doc.root
    assert isinstance(root, YMap)
    label = root.get("label")
    assert isinstance(label, YScalar) and label.value == "😀 中文"
    assert label.span == Span(Pos(0, 7), Pos(0, 13))
    name_pair = root.pair("name")
    assert name_pair.key.span == Span(Pos(1, 0), Pos(1, 4))
    assert name_pair.value.span == Span(Pos(1, 6), Pos(1, 11))
    # the same column in UTF-16 counts the emoji twice
    assert utf16_col("name: 工具😀 x", 11) == 12


def test_nested_maps_and_lists_keep_positions():
    doc = parse_yaml("plugins:\n  tools:\n    - a.yaml\n    - b.yaml\n")
    tools = doc.root.get("plugins").get("tools")
    assert isinstance(tools, YSeq)
    assert [i.value for i in tools.items] == ["a.yaml", "b.yaml"]
    assert tools.items[1].span == Span(Pos(3, 6), Pos(3, 12))


def test_broken_yaml_gives_one_error_at_the_problem():
    doc = parse_yaml("a: 1\nb: [1, 2\nc: 3\n")
    assert doc.root is None
    assert doc.error is not None
    assert doc.error.message.startswith("YAML syntax error:")
    assert doc.error.span.start.line == 2


def test_tab_indentation_is_an_error_not_an_exception():
    doc = parse_yaml("a:\n\tb: 1\n")
    assert doc.error is not None and doc.error.span.start == Pos(1, 0)


def test_duplicate_keys_are_recorded():
    doc = parse_yaml("name: a\nversion: 1.0.0\nname: b\n")
    assert doc.ok
    (first, repeat), = doc.duplicate_keys
    assert first.key.span.start == Pos(0, 0)
    assert repeat.key.span == Span(Pos(2, 0), Pos(2, 4))


def test_alias_bomb_is_not_expanded_while_parsing():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i-1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    doc = parse_yaml("\n".join(lines) + "\n")
    assert doc.ok
    assert doc.alias_count > 0
    # walking the tree as parsed is cheap; expanding it is refused
    try:
        doc.to_python()
    except ValueError as exc:
        assert "too many" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expansion should have been refused")


def test_deep_nesting_is_refused_cleanly():
    text = "a: " + "[" * 500 + "]" * 500 + "\n"
    doc = parse_yaml(text)
    assert doc.root is None and doc.error is not None
    # said in the reader's language, the limit filled in
    from dify_lsp.i18n import tr

    assert "nested deeper than 200 levels" in doc.error.message
    assert tr(doc.error.message, "zh_Hans") == "无法读取 YAML：YAML 嵌套超过 200 层"
    assert tr(doc.error.message, "ja_JP") == "YAML を読み込めません：YAML の入れ子が 200 階層を超えています"


def test_empty_document():
    doc = parse_yaml("")
    assert doc.root is None and doc.error is None


def test_node_at_finds_key_and_value_chain():
    doc = parse_yaml("meta:\n  runner:\n    language: python\n")
    chain = node_at(doc.root, Pos(2, 16))
    assert isinstance(chain[-1], YScalar) and chain[-1].value == "python"


def test_line_index_round_trip():
    text = "ab\n😀c\n\nxyz"
    li = LineIndex(text)
    for off in range(len(text) + 1):
        assert li.offset(li.pos(off)) == off
    assert li.pos(4) == Pos(1, 1)
    assert li.line_text(1) == "😀c"
