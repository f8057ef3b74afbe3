"""EmpatheticDialogues: find the data (CSV release, conversation JSONL, archive), read and validate it, and turn
conversations into samples. The ``prepare`` stage (``empathic_rlhf.prepare``) writes those samples into a run."""
