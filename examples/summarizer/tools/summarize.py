from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.model.message import SystemPromptMessage, UserPromptMessage
from dify_plugin.entities.tool import ToolInvokeMessage


class SummarizeTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        model = tool_parameters["model"]
        text = tool_parameters["text"]
        chunks = self.session.model.llm.invoke(
            model_config=model,
            prompt_messages=[
                SystemPromptMessage(content="Summarize the user's text in at most three sentences."),
                UserPromptMessage(content=text),
            ],
            stream=True,
        )
        summary = ""
        for chunk in chunks:
            piece = chunk.delta.message.content
            if isinstance(piece, str) and piece:
                summary += piece
                yield self.create_text_message(piece)
        self.session.storage.set("last_summary", summary.encode("utf-8"))
        yield self.create_json_message({"summary": summary, "characters": len(text)})
