"""The report's templates (``templates/*.jinja``, Jinja2 with autoescape: every value from the run is escaped
where it is written into the page, nested ones included) and the filters they share."""

from __future__ import annotations

from functools import lru_cache


def fmt(value) -> str:
    """A cell's text: floats to 3 decimals (thousands grouped above 1000), None as a dash. Escaping is the
    template's (autoescape), never done here."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def key_number(value) -> str:
    """A stage summary's value in one line, as text, never Python's repr: a dict flattened one level (deeper values
    shown as …), numbers in brackets ([0.330, 0.650]), other lists (warnings) joined by '; ', an empty one 'none'."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {'…' if isinstance(v, dict) else key_number(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if not value:
            return "none"
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return "[" + ", ".join(fmt(v) for v in value) + "]"
        return "; ".join("…" if isinstance(v, (dict, list, tuple)) else fmt(v) for v in value)
    return fmt(value)


def to_json(value) -> str:
    """``json.dumps`` as the page shows it (keys in the file's order; escaped by the template)."""
    import json

    return json.dumps(value)


def flatten(value, prefix: str = "") -> list[tuple[str, object]]:
    """(dotted key, value) rows of nested dicts, leaves in order; a list of numbers or strings stays one value."""
    if not isinstance(value, dict):
        return [(prefix, value)]
    rows: list[tuple[str, object]] = []
    for key, inner in value.items():
        rows.extend(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return rows


def truncate_text(text: str, limit: int) -> str:
    """The first ``limit`` characters of the plain text (cut before escaping, so no entity is ever cut)."""
    return text[:limit]


@lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("empathic_rlhf.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters.update(fmt=fmt, key_number=key_number, truncate_text=truncate_text, to_json=to_json,
                       flatten=flatten)
    return env


def render(template: str, **context):
    """``template`` rendered with ``context``: HTML (a ``Markup`` string, safe to place in another template)."""
    from markupsafe import Markup

    return Markup(environment().get_template(template).render(**context))
