"""A terminal chat: the last N turns as history, a knowledge segment (persona / situation) as the system message,
and the same reply function as ``sample`` (:class:`~empathic_rlhf.generation.sampler.Sampler`).

Commands: ``/reset`` (forget the history), ``/situation TEXT`` and ``/persona TEXT`` (fill the knowledge segment,
the seed's "knowledge base stores information about persona and dialog history"; no text clears it), ``/quit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

HELP = "commands: /reset  /situation TEXT  /persona TEXT  /quit"


class ChatSession:
    """The state of one conversation; ``reply_fn(messages) -> str`` produces the model's turns."""

    def __init__(self, reply_fn: Callable[[list[dict]], str], max_turns: int = 5):
        self.reply_fn, self.max_turns = reply_fn, max_turns
        self.history: list[dict] = []
        self.persona = self.situation = ""

    def messages(self) -> list[dict]:
        """The context the model sees: knowledge segment, then the last ``max_turns`` turns."""
        knowledge = " ".join(p for p in (f"Persona: {self.persona}" if self.persona else "",
                                         f"Situation: {self.situation}" if self.situation else "") if p)
        recent = self.history[-self.max_turns:] if self.max_turns > 0 else []
        return ([{"role": "system", "content": knowledge}] if knowledge else []) + recent

    def handle(self, line: str) -> str | None:
        """React to one input line; returns what to print, or None to quit."""
        text = line.strip()
        if not text:
            return ""
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command == "/quit":
                return None
            if command == "/reset":
                self.history.clear()
                return "(history cleared)"
            if command in ("/situation", "/persona"):
                setattr(self, command[1:], rest.strip())
                return f"({command[1:]} {'set' if rest.strip() else 'cleared'})"
            return f"(unknown command {command}; {HELP})"
        self.history.append({"role": "user", "content": text})
        answer = self.reply_fn(self.messages())
        self.history.append({"role": "assistant", "content": answer})
        return answer


def chat_loop(session: ChatSession, lines: Iterable[str], write: Callable[[str], None], prompt: str = "> ") -> int:
    """Run the session over input ``lines`` (stdin), writing replies; returns the number of model turns."""
    turns = 0
    write(HELP)
    for line in lines:
        out = session.handle(line)
        if out is None:
            break
        if out:
            is_reply = not line.strip().startswith("/")
            turns += is_reply
            write(f"bot: {out}" if is_reply else out)
    return turns
