"""Schedulers: pending requests on disk (one machine), the shared frontier (distributed)."""
