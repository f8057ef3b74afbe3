"""The one exception type users see: a one-line message naming the file/field at fault."""


class EmpathicError(Exception):
    """A user-facing error. The CLI prints ``error: <message>`` and exits with status 2.

    Raise it for bad input (a missing file, a malformed line, an unknown config key) with a message that names
    where the problem is, e.g. ``train.csv:17: expected 8 fields, got 5``.
    """


def located(path, line: int | None, message: str) -> EmpathicError:
    """Build an error that names ``path`` (and ``line`` when known) in front of ``message``."""
    where = f"{path}:{line}" if line is not None else f"{path}"
    return EmpathicError(f"{where}: {message}")


class WaitingForLabels(EmpathicError):
    """The run needs human labels that do not exist yet: ``empathic run`` stops here cleanly (exit 0) and says
    how to collect them; rerun it once they are exported and it goes on from there."""
