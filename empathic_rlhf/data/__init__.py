"""Stage 1.a: EmpatheticDialogues conversations (CSV release or conversation JSONL) -> training samples."""
