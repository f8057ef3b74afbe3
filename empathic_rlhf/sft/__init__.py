"""Supervised fine-tuning of the policy π (``empathic sft``)."""
