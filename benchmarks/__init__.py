"""Speed benchmarks of the offline planner: figures, not tests (``make bench``)."""
