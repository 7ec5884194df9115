"""Monorepo support: the package graph, affected-only runs since a git ref, and a content-hash task cache.

Pure parts: graph.py, affected.py, taskgraph.py, globs.py, scheduler.py (and facts/workspace.py).
I/O parts: workspace.py (reads manifests), changes.py (git, via the run layer), hashing.py, cache.py,
execute.py (commands via the run layer). session.py strings them together for the tasks.
"""
