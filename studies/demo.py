"""``make demo``: show the embedded default blackbox and evaluate a few configurations.

Runs ``hposim blackbox info <DEFAULT_BLACKBOX>/<first task>``, then evaluates three
configurations drawn (seeded) from the table at a few fidelities, and prints the best
configuration of the table at the first and at the last fidelity.

Example (shell)::

    python -m studies.demo
"""
from __future__ import annotations

import sys
from typing import Sequence

import numpy as np

from blackbox_repo import DEFAULT_BLACKBOX, BlackboxError, load_blackbox
from studies.cli import main as cli_main

__all__ = ["run_demo", "main"]


def _fmt(v: float) -> str:
    return "nan" if np.isnan(v) else f"{v:.4g}"


def run_demo(name: str = DEFAULT_BLACKBOX, seed: int = 0, n_configs: int = 3) -> int:
    """Show blackbox ``name`` (first task) and evaluate ``n_configs`` of its configurations."""
    blackboxes = load_blackbox(name)
    task = next(iter(blackboxes))
    bb = blackboxes[task]
    print(f"$ hposim blackbox info {name}/{task}")
    code = cli_main(["blackbox", "info", f"{name}/{task}"])
    if code:
        return code

    fid = bb.fidelity_values
    levels = sorted({0, len(fid) // 4, len(fid) // 2, len(fid) - 1})
    rng = np.random.default_rng(seed)
    ids = rng.choice(bb.n_configs, size=min(n_configs, bb.n_configs), replace=False)
    print()
    print(f"Evaluating {len(ids)} configurations of {name}/{task} (seed 0), "
          f"metric {bb.metric} ({bb.mode}):")
    for i in ids:
        config = bb.config(int(i))
        print(f"  {config}")
        for k in levels:
            out = bb.evaluate(config, fidelity=fid[k].item(), seed=0)
            parts = [f"{name}={_fmt(v)}" for name, v in out.items()]
            print(f"    {bb.fidelity_name}={fid[k].item()}: {', '.join(parts)}")

    metric = np.asarray(bb.objective(bb.metric), dtype=float).mean(axis=1)  # mean over seeds
    sign = 1.0 if bb.mode == "min" else -1.0
    print()
    for k in (0, len(fid) - 1):
        col = sign * metric[:, k]
        if np.all(np.isnan(col)):
            continue
        best = int(np.nanargmin(col))
        print(f"best at {bb.fidelity_name}={fid[k].item()} (mean over seeds): {bb.config(best)} "
              f"{bb.metric}={_fmt(metric[best, k])}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run_demo()
    except BlackboxError as e:
        print(f"hposim demo: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
