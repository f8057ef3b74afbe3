"""The ``prepare`` stage: conversations -> training samples in ``<run>/prepare/`` (readers live in ``data/``)."""
