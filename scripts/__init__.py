"""The command-line scripts (train_blob, compare_agents, watch_blob, benchmarks).

A package so that tests and other scripts can import their functions from the repository root,
e.g. `from scripts.train_blob import build_agent`.
"""
