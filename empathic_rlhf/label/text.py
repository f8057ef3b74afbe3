"""Dialogue text made safe to look at: what people read must be what the characters say.

- Bidi controls (U+202A-U+202E embeddings/overrides, U+2066-U+2069 isolates, U+200E/U+200F/U+061C marks) can make
  "SIHT DAER" display as "READ THIS"; they are removed before text reaches a page or a terminal. The pages also
  isolate every text block (CSS ``unicode-bidi: isolate``) so right-to-left text cannot reorder its neighbours.
- In a terminal, escape sequences (``\\x1b[2J`` clears the screen, OSC sets the window title) and other control
  characters would act instead of showing; they are stripped there (newlines and tabs kept).
"""

from __future__ import annotations

import re

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# ESC-initiated sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte escapes; then the C1
# controls (their 8-bit forms) and every C0 control but tab and newline, and DEL.
TERMINAL_SEQUENCES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?"
                                r"|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def neutralise(text: str | None) -> str | None:
    """``text`` without bidi embedding/override/isolate controls (None stays None)."""
    return None if text is None else BIDI_CONTROLS.sub("", text)


def for_terminal(text: str | None) -> str:
    """``text`` safe to print: no bidi controls, no escape sequences, no control characters but tab/newline."""
    return TERMINAL_SEQUENCES.sub("", neutralise(text or ""))
