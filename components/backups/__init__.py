"""Backups: `Backups` in component.py (buckets, keys, replication); the seed retention layout in layout.py."""
