"""Test probe: prints nothing at all."""
