"""Test support that ships with harness: a real local registry and loopback fault servers."""
