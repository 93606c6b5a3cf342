"""dify-lsp: editor tooling for Dify plugin authors."""

__version__ = "0.1.0"
