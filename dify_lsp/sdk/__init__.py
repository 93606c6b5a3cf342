"""Knowledge about the dify_plugin SDK, kept as data (see :mod:`dify_lsp.sdk.catalog`)."""
