"""Human feedback: a small web app (and a terminal mode) where people pick the better reply.

Flow: ``empathic label import tasks.jsonl`` -> ``label invite NAME`` -> ``label serve`` -> annotators label in the
browser -> ``label export`` writes ``labels.jsonl``, ``tasks.jsonl`` and ``pairs.jsonl`` as the shared records
(``empathic_rlhf.records``: Label, Task, and Pair built only by ``records.pairs_from_label``). The database is the source of truth; every rule that must hold under concurrency (quota, one
label per assignment, one assignment per annotator and task) is a constraint or a conditional UPDATE in it.
"""
