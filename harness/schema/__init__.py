"""The JSON Schema of matrix.yaml (matrix.schema.json, written by `harness schema`) and the
reference page rendered from it (docs/matrix-reference.md, `harness schema --format
markdown`)."""
