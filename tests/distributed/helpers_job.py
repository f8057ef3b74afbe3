"""empathic_rlhf.distributed under two processes, run by test_main_process_only.py: prints one JSON line per
process with what each helper gave it, then fails on purpose in a main-only function (exit status 3)."""

import json
import sys

from empathic_rlhf.distributed import (is_main_process, main_process_only, num_processes, process_index,
                                       wait_for_everyone)


@main_process_only
def inner(x):
    return {"inner_on": process_index(), "x": x}


@main_process_only
def outer():
    return {"outer_on": process_index(), "nested": inner(7)}  # nested: runs directly, no second broadcast


@main_process_only
def fails():
    raise ValueError(f"planted failure on process {process_index()}")


def main() -> int:
    wait_for_everyone()
    seen = {"rank": process_index(), "processes": num_processes(), "main": is_main_process(), "outer": outer()}
    try:
        fails()
    except ValueError as error:
        seen["error"] = str(error)
    print("RESULT " + json.dumps(seen), flush=True)
    return 3 if "error" in seen else 0


if __name__ == "__main__":
    sys.exit(main())
