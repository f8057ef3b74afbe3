"""HTTP routes: thin wrappers around ``assign.py`` (annotators) and ``report.py`` / ``export.py`` (admin)."""
