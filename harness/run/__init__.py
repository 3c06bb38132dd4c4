"""Running a matrix: the executor, one cell's steps, bases' facts, probes, scheduling."""
