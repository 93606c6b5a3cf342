from typing import Any

from dify_plugin import ToolProvider


class LLMProvider(ToolProvider):
    def _validate_credentials(self, credentials: dict[str, Any]) -> None:
        # No credentials: the tool uses the workspace's own models.
        pass
