"""Every document rendered from results: HTML report, summary, diff, compare, ADR, JUnit."""
