"""Schedulers (the distributed run's shared frontier)."""
