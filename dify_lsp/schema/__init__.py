"""Knowledge about Dify plugin YAML files, kept as data."""
