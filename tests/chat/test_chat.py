"""The terminal chat: commands, history window, knowledge segment, and a scripted stdin through the CLI."""

import io

from empathic_rlhf.chat.session import ChatSession, chat_loop
from empathic_rlhf.cli import main


def test_commands_history_and_knowledge_segment():
    seen = []
    session = ChatSession(lambda messages: seen.append(messages) or f"reply {len(seen)}", max_turns=2)
    out = []
    script = ["hello", "/situation I lost my job today", "/persona a kind friend", "I feel sad", "", "/nope",
              "/reset", "again", "/quit", "never read"]
    assert chat_loop(session, script, out.append) == 3
    assert seen[0] == [{"role": "user", "content": "hello"}]
    assert seen[1] == [{"role": "system", "content": "Persona: a kind friend Situation: I lost my job today"},
                       {"role": "assistant", "content": "reply 1"}, {"role": "user", "content": "I feel sad"}]
    assert seen[2][1:] == [{"role": "user", "content": "again"}]  # /reset forgot the turns, not the knowledge
    assert "bot: reply 2" in out and any("unknown command /nope" in line for line in out)
    assert not any("never read" in line for line in out)


def test_chat_answers_through_a_scripted_stdin(tiny_gpt2_dir, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("hello there\n/situation I lost my job\nI feel sad\n/quit\n"))
    assert main(["chat", str(tiny_gpt2_dir), "--max_new_tokens=5", "--seed=1"]) == 0
    out = capsys.readouterr().out.splitlines()
    replies = [line for line in out if line.startswith("bot: ")]
    assert len(replies) == 2 and all(len(r) > len("bot: ") for r in replies)
    assert "(situation set)" in out
