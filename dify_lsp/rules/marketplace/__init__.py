"""Marketplace readiness: what Dify Marketplace review decides from the package (see :mod:`.family`)."""

# Imported in this order, which is the order of the review's checks (contents first: when the package
# cannot be unpacked, the review stops there).
from dify_lsp.rules.marketplace import contents, secrets, binaries, manifest, readme, dependencies, python, activity  # noqa: F401
