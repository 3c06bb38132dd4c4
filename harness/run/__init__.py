"""Running a matrix: the pipeline, the pytest plugin, one cell's steps, probes, scheduling."""
