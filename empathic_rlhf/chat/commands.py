"""``empathic chat``: talk to any model (a folder, embedded name or Hub id; default: the run's π)."""

from __future__ import annotations


def _chat(args, overrides) -> int:
    import sys
    from pathlib import Path

    from .. import config as cfg
    from ..errors import EmpathicError
    from ..generation.config import SamplingConfig
    from ..runtime import configure_cpu_runtime

    params = cfg.load(SamplingConfig, layers=[{"max_new_tokens": 60}, cfg.parse_overrides(overrides)])
    if args.model and args.model_positional and args.model != args.model_positional:
        raise EmpathicError(f"two models given: {args.model_positional!r} and --model {args.model!r}")
    configure_cpu_runtime()
    model = args.model or args.model_positional
    if model is None:
        pi = Path(args.runs_dir) / args.name / "sft" / "model"
        model = str(pi) if pi.is_dir() else "smollm2-135m"
    from ..generation.sampler import Sampler
    from .session import ChatSession, chat_loop

    print(f"loading {model} ...", file=sys.stderr)
    sampler = Sampler.load(model, args.dialogue_format, params=params)
    seeds = iter(range(args.seed, args.seed + 1_000_000))
    session = ChatSession(lambda messages: sampler.reply(messages, seed=next(seeds)), max_turns=args.max_turns)
    interactive = sys.stdin.isatty()

    def lines():
        while True:
            try:
                line = input("> ") if interactive else sys.stdin.readline()
            except EOFError:
                return
            if not interactive and line == "":
                return
            yield line

    chat_loop(session, lines(), print)
    return 0


def add_commands(subparsers) -> None:
    import argparse

    from ..generation.config import SamplingConfig
    from ..stage_cli import describe_fields

    epilog = "sampling settings (--key=value, e.g. --temperature=0.7 --backend=ctranslate2):\n" + "\n".join(
        describe_fields(SamplingConfig, ""))
    parser = subparsers.add_parser("chat", help="Talk to a model in the terminal (/reset, /situation, /persona, "
                                                "/quit).", epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="Model folder, embedded name or Hub id (default: the run's π, "
                                        "else smollm2-135m).")
    parser.add_argument("model_positional", nargs="?", metavar="MODEL", help="Same as --model.")
    parser.add_argument("--name", default="demo", help="Run whose π is the default model (default: demo).")
    parser.add_argument("--runs-dir", default="runs", help="Folder of run directories (default: runs).")
    parser.add_argument("--dialogue-format", default="auto", choices=("auto", "seed", "chat-template"),
                        help="How turns become text: the model's chat template (auto, the default), or the "
                             "seed's format.")
    parser.add_argument("--max-turns", type=int, default=5, help="Turns of history the model sees (default: 5).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the first reply, each reply getting the next "
                                                            "(default: 0).")
    parser.set_defaults(func=_chat)
