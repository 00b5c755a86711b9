"""Config search path, schema types and validation (binding YAML nodes to builder signatures)."""
