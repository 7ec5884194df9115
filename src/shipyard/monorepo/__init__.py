"""Monorepo support: the package graph, affected-only runs since a git ref, and a content-hash task cache.

Pure: globs.py, graph.py, affected.py, taskgraph.py, scheduler.py, services.py, render.py
(and facts/workspace.py for manifests). I/O: workspace.py reads manifests; changes.py asks git and
execute.py runs commands, both through shipyard.run; hashing.py and cache.py read and write files.
session.py (discover, affected) and runs.py (plan, run) string them together for the tasks.
"""
