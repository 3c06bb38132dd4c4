"""Where results live: the run directory (file names, atomic writes, load) and the history."""
