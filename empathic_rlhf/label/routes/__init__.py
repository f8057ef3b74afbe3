"""HTTP routes: thin wrappers around ``assign.py`` (annotators) and ``reports.py`` / ``export.py`` (admin)."""
