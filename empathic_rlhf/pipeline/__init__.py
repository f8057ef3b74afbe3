"""The whole loop: the ordered list of stages, the runner that skips what is up to date, and ``empathic run``.

It imports the stage packages; none of them imports it (their commands go through :mod:`empathic_rlhf.stage_cli`).
"""
