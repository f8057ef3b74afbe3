"""Automatic metrics of several models on the test split (``empathic evaluate``)."""
