"""What plugin Python means, computed once and read by the rules and the editor features alike.

- :mod:`dify_lsp.pyscan` reads one module (tolerantly: broken lines are repaired until the rest parses):
  imports, classes, the aliases each function binds, session chains and calls, parameter / credential
  reads.  The editor's cursor features run the same reading on the function around the cursor.
- :mod:`dify_lsp.analysis.modules` is the import graph between the plugin's modules and what each base
  class really is (an SDK plugin base, a plugin class, unknown).
- :mod:`dify_lsp.analysis.plugin` puts them together for one plugin, once per check run: the units, the
  graph, which files run, the tool YAMLs each source serves and the classes the SDK loads.
"""
