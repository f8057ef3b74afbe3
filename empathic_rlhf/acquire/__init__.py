"""Active selection of comparison tasks: ask people only what a cheap reward model does not know yet.

``select_tasks`` (stage.py) ranks a pool of sampled tasks by an acquisition rule (rules.py) computed from a
bootstrap ensemble of Bradley-Terry models (preference.py) on frozen sentence-encoder features (features.py),
keeps the batch diverse (diversity.py) and ``write_selection`` writes the chosen tasks for ``empathic label
import``. See docs/acquire.md for the formulas and the label-efficiency benchmark.
"""
