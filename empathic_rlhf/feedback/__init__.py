"""Human feedback: a small web app (and a terminal mode) where people pick the better reply.

Flow: ``empathic label import tasks.jsonl`` -> ``label invite NAME`` -> ``label serve`` -> annotators label in the
browser -> ``label export`` writes ``labels.jsonl`` (best-of-k Label records) and ``pairs.jsonl`` (TRL prompt /
chosen / rejected). The database is the source of truth; every rule that must hold under concurrency (quota, one
label per assignment, one assignment per annotator and task) is a constraint or a conditional UPDATE in it.
"""
