"""Starts the dify-lsp language server from the packages bundled with the extension (../libs).

The extension runs this with the Python interpreter the Python extension selected, or python3 (3.11 or
newer).  The bundled packages go first on sys.path of this process only: nothing is installed into that
interpreter, and no PYTHONPATH leaks into the plugin processes the server starts (they run on the plugin's
own Python 3.12).
"""

import os
import sys

if sys.version_info < (3, 11):
    sys.stderr.write(f"dify-lsp needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]}\n")
    sys.exit(2)

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")
sys.path.insert(0, LIBS)

from dify_lsp.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
