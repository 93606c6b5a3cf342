"""Prints which dify-lsp features the installed server has, as JSON.

The end-to-end test runs this with the same Python that runs the server, so a
check whose server-side feature has not been built yet is reported as waiting
on that work instead of as a client failure. It also prints the findings that
`dify-lsp check` reports for the test workspace (argv[1]), which are the
diagnostics the Problems panel must show.
"""

import json
import subprocess
import sys

from dify_lsp.features import COMPLETION, HOVER, RENAME
from dify_lsp.features.registry import providers_for
from dify_lsp.schema.references import PYTHON, TOOL
from dify_lsp.server import create_server

server = create_server()
out = {
    "commands": sorted(server.protocol.fm.commands),
    "completion_python": [p.name for p in providers_for(COMPLETION, PYTHON)],
    "hover_tool_yaml": [p.name for p in providers_for(HOVER, TOOL)],
    "rename": [p.name for p in providers_for(RENAME, PYTHON)],
    "findings": [],
}
if len(sys.argv) > 1:
    proc = subprocess.run(
        [sys.executable, "-m", "dify_lsp", "check", "--format", "json", sys.argv[1]],
        capture_output=True, text=True, timeout=120,
    )
    try:
        out["findings"] = json.loads(proc.stdout or "[]")
    except ValueError:
        out["check_error"] = (proc.stderr or proc.stdout)[-2000:]
json.dump(out, sys.stdout)
