"""The release history of dify-plugin on PyPI, and the first release that has each session member.

``RELEASES`` is every published version, oldest first, pre-releases included (``pip index versions --pre
dify-plugin``, 2026-12-01).  ``FIRST_RELEASE`` maps each member of the reverse-invocation surface (the
catalog's paths after ``session``; ``method(param)`` for a parameter) to the first release whose source has
it: found by bisecting the release list, downloading each probed wheel and reading its classes
(``SessionClass`` attributes, methods and their parameters) with ``ast``; a member is assumed to stay once
added.  A requirement such as ``dify_plugin>=0.0.1b66`` allows the releases PEP 440 says it allows
(``packaging``), and a member is too new for it when the oldest of those lacks it.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

RELEASES: tuple[str, ...] = (
    "0.0.1b2", "0.0.1b3", "0.0.1b4", "0.0.1b5", "0.0.1b6", "0.0.1b7", "0.0.1b8", "0.0.1b9", "0.0.1b10", "0.0.1b11",
    "0.0.1b12", "0.0.1b14", "0.0.1b15", "0.0.1b16", "0.0.1b17", "0.0.1b18", "0.0.1b19", "0.0.1b20", "0.0.1b21", "0.0.1b22",
    "0.0.1b23", "0.0.1b24", "0.0.1b26", "0.0.1b27", "0.0.1b28", "0.0.1b29", "0.0.1b31", "0.0.1b32", "0.0.1b33", "0.0.1b34",
    "0.0.1b35", "0.0.1b36", "0.0.1b37", "0.0.1b38", "0.0.1b39", "0.0.1b40", "0.0.1b42", "0.0.1b43", "0.0.1b44", "0.0.1b45",
    "0.0.1b46", "0.0.1b47", "0.0.1b48", "0.0.1b49", "0.0.1b51", "0.0.1b52", "0.0.1b53", "0.0.1b54", "0.0.1b55", "0.0.1b56",
    "0.0.1b57", "0.0.1b58", "0.0.1b59", "0.0.1b60", "0.0.1b61", "0.0.1b62", "0.0.1b63", "0.0.1b64", "0.0.1b65", "0.0.1b66",
    "0.0.1b67", "0.0.1b68", "0.0.1b69", "0.0.1b70", "0.0.1b71", "0.0.1b72", "0.0.1b73", "0.0.1b74", "0.0.1b75", "0.0.1b76",
    "0.0.1b77", "0.1.0", "0.2.0", "0.2.1", "0.2.2", "0.2.4", "0.3.0", "0.3.1", "0.3.2", "0.3.3",
    "0.3.4", "0.3.5", "0.4.0b1", "0.4.0b2", "0.4.0b3", "0.4.0b4", "0.4.0b5", "0.4.0b6", "0.4.0b7", "0.4.0b8",
    "0.4.0", "0.4.1", "0.4.2b1", "0.4.2b2", "0.4.2", "0.4.3", "0.4.4b2", "0.4.4", "0.4.5b1", "0.4.5b2",
    "0.4.5", "0.5.0b2", "0.5.0b3", "0.5.0b4", "0.5.0b6", "0.5.0b8", "0.5.0b9", "0.5.0b10", "0.5.0b11", "0.5.0b12",
    "0.5.0b13", "0.5.0b14", "0.5.0b15", "0.5.0", "0.5.1", "0.6.0b1", "0.6.0b2", "0.6.0b3", "0.6.0b4", "0.6.0b5",
    "0.6.0b6", "0.6.0b7", "0.6.0b8", "0.6.0b9", "0.6.0b10", "0.6.0b11", "0.6.0b12", "0.6.0b13", "0.6.0b14", "0.6.0",
    "0.6.1", "0.6.2", "0.7.0b1", "0.7.0", "0.7.1", "0.7.2", "0.7.3", "0.7.4", "0.8.0", "0.9.0",
    "0.9.1", "0.10.0", "0.10.1", "0.10.2",
)

FIRST_RELEASE: dict[str, str] = {
    "model": "0.0.1b3",
    "model.llm": "0.0.1b3",
    "model.llm.invoke": "0.0.1b3",
    "model.llm.invoke(model_config)": "0.0.1b3",
    "model.llm.invoke(prompt_messages)": "0.0.1b3",
    "model.llm.invoke(tools)": "0.0.1b3",
    "model.llm.invoke(stop)": "0.0.1b3",
    "model.llm.invoke(stream)": "0.0.1b3",
    "model.llm_structured_output": "0.4.0",
    "model.llm_structured_output.invoke": "0.4.0",
    "model.llm_structured_output.invoke(model_config)": "0.4.0",
    "model.llm_structured_output.invoke(prompt_messages)": "0.4.0",
    "model.llm_structured_output.invoke(structured_output_schema)": "0.4.0",
    "model.llm_structured_output.invoke(tools)": "0.4.0",
    "model.llm_structured_output.invoke(stop)": "0.4.0",
    "model.llm_structured_output.invoke(stream)": "0.4.0",
    "model.text_embedding": "0.0.1b3",
    "model.text_embedding.invoke": "0.0.1b3",
    "model.text_embedding.invoke(model_config)": "0.0.1b3",
    "model.text_embedding.invoke(texts)": "0.0.1b3",
    "model.text_embedding.invoke(input_type)": "0.0.1b57",
    "model.text_embedding.invoke_multimodal": "0.7.0b1",
    "model.text_embedding.invoke_multimodal(model_config)": "0.7.0b1",
    "model.text_embedding.invoke_multimodal(documents)": "0.7.0b1",
    "model.text_embedding.invoke_multimodal(input_type)": "0.7.0b1",
    "model.rerank": "0.0.1b3",
    "model.rerank.invoke": "0.0.1b3",
    "model.rerank.invoke(model_config)": "0.0.1b3",
    "model.rerank.invoke(docs)": "0.0.1b3",
    "model.rerank.invoke(query)": "0.0.1b3",
    "model.rerank.invoke_multimodal": "0.7.0b1",
    "model.rerank.invoke_multimodal(model_config)": "0.7.0b1",
    "model.rerank.invoke_multimodal(query)": "0.7.0b1",
    "model.rerank.invoke_multimodal(docs)": "0.7.0b1",
    "model.speech2text": "0.0.1b3",
    "model.speech2text.invoke": "0.0.1b3",
    "model.speech2text.invoke(model_config)": "0.0.1b3",
    "model.speech2text.invoke(file)": "0.0.1b3",
    "model.tts": "0.0.1b3",
    "model.tts.invoke": "0.0.1b3",
    "model.tts.invoke(model_config)": "0.0.1b3",
    "model.tts.invoke(content_text)": "0.0.1b3",
    "model.moderation": "0.0.1b3",
    "model.moderation.invoke": "0.0.1b3",
    "model.moderation.invoke(model_config)": "0.0.1b3",
    "model.moderation.invoke(text)": "0.0.1b3",
    "model.summary": "0.0.1b14",
    "model.summary.invoke": "0.0.1b14",
    "model.summary.invoke(text)": "0.0.1b14",
    "model.summary.invoke(instruction)": "0.0.1b14",
    "model.summary.invoke(min_summarize_length)": "0.0.1b44",
    "tool": "0.0.1b3",
    "tool.invoke": "0.0.1b3",
    "tool.invoke(provider_type)": "0.0.1b3",
    "tool.invoke(provider)": "0.0.1b3",
    "tool.invoke(tool_name)": "0.0.1b3",
    "tool.invoke(parameters)": "0.0.1b3",
    "tool.invoke(credential_id)": "0.4.2b1",
    "tool.invoke_builtin_tool": "0.0.1b3",
    "tool.invoke_builtin_tool(provider)": "0.0.1b3",
    "tool.invoke_builtin_tool(tool_name)": "0.0.1b3",
    "tool.invoke_builtin_tool(parameters)": "0.0.1b3",
    "tool.invoke_workflow_tool": "0.0.1b3",
    "tool.invoke_workflow_tool(provider)": "0.0.1b3",
    "tool.invoke_workflow_tool(tool_name)": "0.0.1b3",
    "tool.invoke_workflow_tool(parameters)": "0.0.1b3",
    "tool.invoke_api_tool": "0.0.1b3",
    "tool.invoke_api_tool(provider)": "0.0.1b3",
    "tool.invoke_api_tool(tool_name)": "0.0.1b3",
    "tool.invoke_api_tool(parameters)": "0.0.1b3",
    "app": "0.0.1b3",
    "app.chat": "0.0.1b3",
    "app.chat.invoke": "0.0.1b3",
    "app.chat.invoke(app_id)": "0.0.1b3",
    "app.chat.invoke(query)": "0.0.1b28",
    "app.chat.invoke(inputs)": "0.0.1b3",
    "app.chat.invoke(response_mode)": "0.0.1b3",
    "app.chat.invoke(conversation_id)": "0.0.1b3",
    "app.chat.invoke(user)": "0.8.0",
    "app.completion": "0.0.1b3",
    "app.completion.invoke": "0.0.1b3",
    "app.completion.invoke(app_id)": "0.0.1b3",
    "app.completion.invoke(inputs)": "0.0.1b3",
    "app.completion.invoke(response_mode)": "0.0.1b3",
    "app.completion.invoke(user)": "0.8.0",
    "app.workflow": "0.0.1b3",
    "app.workflow.invoke": "0.0.1b3",
    "app.workflow.invoke(app_id)": "0.0.1b3",
    "app.workflow.invoke(inputs)": "0.0.1b3",
    "app.workflow.invoke(response_mode)": "0.0.1b3",
    "app.workflow.invoke(user)": "0.8.0",
    "app.fetch_app_invocation": "0.2.0",
    "app.fetch_app_invocation.get": "0.2.0",
    "app.fetch_app_invocation.get(app_id)": "0.2.0",
    "app.fetch_app": "0.2.0",
    "app.fetch_app(app_id)": "0.2.0",
    "workflow_node": "0.0.1b3",
    "workflow_node.question_classifier": "0.0.1b3",
    "workflow_node.question_classifier.invoke": "0.0.1b3",
    "workflow_node.question_classifier.invoke(classes)": "0.0.1b10",
    "workflow_node.question_classifier.invoke(model)": "0.0.1b10",
    "workflow_node.question_classifier.invoke(query)": "0.0.1b10",
    "workflow_node.question_classifier.invoke(instruction)": "0.0.1b10",
    "workflow_node.parameter_extractor": "0.0.1b3",
    "workflow_node.parameter_extractor.invoke": "0.0.1b3",
    "workflow_node.parameter_extractor.invoke(parameters)": "0.0.1b10",
    "workflow_node.parameter_extractor.invoke(model)": "0.0.1b10",
    "workflow_node.parameter_extractor.invoke(query)": "0.0.1b10",
    "workflow_node.parameter_extractor.invoke(instruction)": "0.0.1b10",
    "storage": "0.0.1b3",
    "storage.set": "0.0.1b3",
    "storage.set(key)": "0.0.1b3",
    "storage.set(val)": "0.0.1b3",
    "storage.get": "0.0.1b3",
    "storage.get(key)": "0.0.1b3",
    "storage.delete": "0.0.1b3",
    "storage.delete(key)": "0.0.1b3",
    "storage.exist": "0.2.0",
    "storage.exist(key)": "0.2.0",
    "file": "0.0.1b26",
    "file.upload": "0.0.1b26",
    "file.upload(filename)": "0.0.1b26",
    "file.upload(content)": "0.0.1b26",
    "file.upload(mimetype)": "0.0.1b26",
    "session_id": "0.0.1b3",
    "conversation_id": "0.0.1b12",
    "message_id": "0.0.1b12",
    "app_id": "0.0.1b12",
    "endpoint_id": "0.0.1b12",
    "context": "0.4.2b1",
    "install_method": "0.0.1b3",
    "dify_plugin_daemon_url": "0.0.1b3",
    "max_invocation_timeout": "0.5.1",
    "reader": "0.0.1b3",
    "writer": "0.0.1b3",
    "empty_session": "0.0.1b3",
}


def first_release(path: tuple[str, ...], param: str | None = None) -> str | None:
    """The first release with ``session.<path>`` (or its parameter ``param``); None when not recorded."""
    key = ".".join(path) + (f"({param})" if param else "")
    return FIRST_RELEASE.get(key)


@lru_cache(maxsize=256)  # a pure function of the specifier (RELEASES is fixed): a check asks once per plugin
def oldest_allowed(specifier: str) -> str | None:
    """The oldest published release a PEP 440 specifier (``>=0.4,<1``, ``==0.0.1b66``, ``~=0.6``) allows,
    pre-releases counted as pip counts them; None when it cannot be parsed or allows no known release."""
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        return None
    allowed = list(spec.filter(RELEASES))
    return min(allowed, key=Version) if allowed else None


@lru_cache(maxsize=1024)  # a pure function of its string; the strings asked are the fixed RELEASES and a few specifiers
def _version(text: str) -> Version:
    """``Version(text)``, parsed once per string (a check compares the same few releases for every name)."""
    return Version(text)


def older(a: str, b: str) -> bool:
    """Whether release ``a`` is older than ``b`` (PEP 440 order)."""
    try:
        return _version(a) < _version(b)
    except InvalidVersion:
        return False
