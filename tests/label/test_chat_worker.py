"""The chat worker with a real (tiny, locally built) policy: one batch serves several conversations' jobs, a single
reply becomes a turn at once, a choice's candidates differ and wait; the default policy is the run's latest."""

from __future__ import annotations

import pytest
from label_helpers import auth

from empathic_rlhf.errors import EmpathicError
from empathic_rlhf.label import chat_store
from empathic_rlhf.label.auth import invite
from empathic_rlhf.label.chat_worker import Worker, default_policy, load_sampler
from empathic_rlhf.label.config import LabelConfig

CONSENT = {"consent": True, "consent_version": chat_store.CONSENT_VERSION}


def test_one_batch_serves_several_conversations(tiny_gpt2_dir, store):
    from fastapi.testclient import TestClient

    from empathic_rlhf.label.app import create_app

    config = LabelConfig(chat_enabled=True, chat_choice_every=2, chat_candidates=3, chat_max_new_tokens=6)
    tokens = [invite(store, name) for name in ("ann", "bob")]
    lines = []
    worker = Worker(store, config, load_sampler(str(tiny_gpt2_dir), config, batch=8), "w1", "tiny-policy",
                    log=lines.append)
    with TestClient(create_app(store, config)) as client:
        chats = [client.post("/api/chat/start", headers=auth(t), json=CONSENT).json()["chat_id"] for t in tokens]
        for tok, chat_id in zip(tokens, chats):
            client.post("/api/chat/messages", headers=auth(tok), json={"chat_id": chat_id, "text": "My cat is ill."})
        assert worker.step() == 2 and worker.step() == 0  # both conversations' replies in one claim
        ann = client.get(f"/api/chat/{chats[0]}", headers=auth(tokens[0])).json()
        assert ann["pending"] is None and ann["turns"][1]["role"] == "assistant" and ann["turns"][1]["text"]

        client.post("/api/chat/messages", headers=auth(tokens[0]), json={"chat_id": chats[0], "text": "Thanks."})
        assert worker.step() == 1
        pending = client.get(f"/api/chat/{chats[0]}", headers=auth(tokens[0])).json()["pending"]
    texts = [c["text"] for c in pending["candidates"]]
    assert pending["status"] == "ready" and len(texts) == 3
    assert len(set(texts)) == 3  # the sampler re-draws duplicates: three different replies to choose from
    assert worker.done == 3 and len(lines) == 2 and "2 job(s) x 1 candidate(s)" in lines[0]


def test_default_policy_is_the_runs_latest(tmp_path):
    run = tmp_path / "runs" / "r"
    with pytest.raises(EmpathicError, match="no policy"):
        default_policy(tmp_path / "runs", "r")
    (run / "sft" / "model").mkdir(parents=True)
    assert default_policy(tmp_path / "runs", "r") == str(run / "sft" / "model")
    (run / "rl" / "model").mkdir(parents=True)
    assert default_policy(tmp_path / "runs", "r") == str(run / "rl" / "model")


def test_worker_command_without_a_policy_is_one_clear_error(tmp_path, capsys):
    from empathic_rlhf.label.commands import main

    code = main(["worker", "--runs-dir", str(tmp_path), "--name", "none", "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert code == 2 and "no policy in" in capsys.readouterr().err
