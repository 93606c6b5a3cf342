from dify_lsp.cli import main

raise SystemExit(main())
