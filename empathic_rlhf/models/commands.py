"""``empathic model fetch``: build/cache a base model and check that it answers a chat message."""

from __future__ import annotations


def _fetch(args, overrides) -> int:
    import time

    from ..config import reject_overrides
    from ..runtime import configure_cpu_runtime

    reject_overrides(overrides, "model fetch")
    configure_cpu_runtime()
    from .loading import load_model_and_tokenizer
    from ..generation.config import SamplingConfig
    from ..generation.sampler import Sampler, make_backend

    start = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(args.model, args.dialogue_format)
    loaded = time.perf_counter() - start
    print(f"loaded {args.model} in {loaded:.1f} s ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M "
          f"parameters, vocabulary {len(tokenizer):,})")
    if args.message:
        start = time.perf_counter()
        greedy = SamplingConfig(temperature=0.0, max_new_tokens=args.max_new_tokens)
        sampler = Sampler(make_backend(greedy, model, tokenizer), greedy)
        reply = sampler.reply([{"role": "user", "content": args.message}])
        print(f"> {args.message}\n{reply}\n({time.perf_counter() - start:.1f} s)")
    return 0


def add_commands(subparsers) -> None:
    model = subparsers.add_parser("model", help="Base models: fetch embedded ones, check they answer.")
    model_sub = model.add_subparsers(dest="model_command", metavar="<model-command>", required=True)
    fetch = model_sub.add_parser("fetch", help="Load (building the cache on first use) and say one message.")
    fetch.add_argument("model", nargs="?", default="smollm2-135m", help="Embedded name, folder or Hub id.")
    fetch.add_argument("--dialogue-format", default="auto", choices=("auto", "seed", "chat-template"),
                       help="How turns become text: the model's chat template (auto), or the seed's format.")
    fetch.add_argument("--message", default="I finally got the job I wanted!", help="A message to answer.")
    fetch.add_argument("--max-new-tokens", type=int, default=40, help="Longest reply, in tokens (greedy).")
    fetch.set_defaults(func=_fetch)
