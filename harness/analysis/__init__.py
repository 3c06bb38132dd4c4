"""What the results mean: derived metrics, diffs, comparisons and the exit-code gate."""
