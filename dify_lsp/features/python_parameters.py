"""Hover on a tool parameter read in Python (``tool_parameters.get("query")``, ``tool_parameters["query"]``):
the parameter as the tool YAML declares it, with the author's own label and description in the user's language."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from dify_lsp import pyscan
from dify_lsp.analysis.plugin import tool_yamls_by_source
from dify_lsp.features import HOVER, RequestContext, provides
from dify_lsp.i18n import N_, msg, pick_translated
from dify_lsp.index import lookup
from dify_lsp.schema.references import PYTHON
from dify_lsp.textpos import Pos
from dify_lsp.yamlpos import YMap, YNode, YScalar, YSeq


def _tool_yamls(ctx: RequestContext) -> list[Path]:
    """The tool YAMLs whose `extra.python.source` is this file."""
    assert ctx.plugin is not None
    return [yf.path for yf in tool_yamls_by_source(ctx.plugin).get(ctx.path, [])]


def _scalar(node: YNode | None) -> str | None:
    return node.raw if isinstance(node, YScalar) and node.raw else None


def _translated(ctx: RequestContext, node: YNode | None) -> str | None:
    if isinstance(node, YMap):
        texts = {p.key_text: p.value.raw for p in node.pairs if p.key_text and isinstance(p.value, YScalar)}
        return pick_translated(texts, ctx.language)
    return _scalar(node)


def parameter_markdown(ctx: RequestContext, key: str) -> str | None:
    if ctx.plugin is None:
        return None
    for yaml_path in _tool_yamls(ctx):
        yf = ctx.plugin.yaml_files.get(yaml_path)
        params, _ = lookup(ctx.read.root(yf) if yf is not None else None, ("parameters",))
        if not isinstance(params, YSeq):
            continue
        for item in params.items:
            if not isinstance(item, YMap) or _scalar(item.get("name")) != key:
                continue
            required = (_scalar(item.get("required")) or "").lower() == "true"
            need = ctx.tr(N_("required") if required else N_("optional"))
            head = f"**`{key}`** ({need}, `{_scalar(item.get('type')) or '?'}`)"
            lines = [head]
            label = _translated(ctx, item.get("label"))
            if label:
                lines += ["", f"**{label}**"]
            human = _translated(ctx, item.get("human_description"))
            if human:
                lines += ["", human]
            llm = _scalar(item.get("llm_description"))
            if llm:
                lines += ["", ctx.tr(msg("For the LLM: {text}", text=llm))]
            lines += ["", "_" + ctx.tr(msg("Tool parameter declared in {file}", file=ctx.plugin.relative(yaml_path))) + "_"]
            return "\n".join(lines)
    return None


@provides(HOVER, kinds=(PYTHON,))
def parameter_hover(ctx: RequestContext, pos: Pos) -> types.Hover | None:
    if ctx.plugin is None or not _tool_yamls(ctx):
        return None
    for invoke in pyscan.scan_file(ctx.path, ctx.text, ctx.index.caches).invokes:
        for read in invoke.reads:
            if read.span.start <= pos <= read.span.end:
                text = parameter_markdown(ctx, read.key)
                if text is None:
                    return None
                return types.Hover(contents=ctx.markup(text), range=ctx.range(read.span))
    return None


# What this feature serves (collected by dify_lsp.features.registry).
PROVIDERS = (parameter_hover,)
