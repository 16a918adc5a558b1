"""Produce the Syne Tune fixture folders with a real Syne Tune 0.16 run (not run by the tests).

Run with the benchmarks' Syne Tune venv:

    benchmarks/.venv-syne-tune/bin/python tests/studies/data/make_syne_tune_fixture.py

It tunes a tiny script (a noisy quadratic "learning curve" over 5 epochs, reported through
Syne Tune's Reporter) with RandomSearch and ASHA on Syne Tune's LocalBackend, 2 workers,
30 seconds each, then keeps each experiment's metadata.json and results.csv.zip in
tests/studies/data/syne-tune/<algorithm>-seed<seed>/.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

TRAIN = '''
import argparse, time
from syne_tune import Reporter
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--width", type=int)
p.add_argument("--epochs", type=int)
a, _ = p.parse_known_args()   # Syne Tune also passes --st_checkpoint_dir
report = Reporter()
for epoch in range(1, a.epochs + 1):
    time.sleep(0.05 * a.width / 16)
    loss = (a.x - 0.3) ** 2 + 1.0 / (epoch * a.width / 16)
    report(epoch=epoch, loss=loss)
'''


def main() -> None:
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend import LocalBackend
    from syne_tune.config_space import choice, uniform
    from syne_tune.optimizer.baselines import ASHA, RandomSearch

    out = Path(__file__).parent / "syne-tune"
    work = Path(tempfile.mkdtemp())
    os.environ["SYNETUNE_FOLDER"] = str(work / "runs")
    script = work / "quadratic.py"
    script.write_text(TRAIN)
    space = {"x": uniform(0.0, 1.0), "width": choice([16, 32]), "epochs": 5}
    for name, make in (("RandomSearch", lambda s: RandomSearch(space, metrics=["loss"], do_minimize=True,
                                                               random_seed=s)),
                       ("ASHA", lambda s: ASHA(space, metric="loss", do_minimize=True, time_attr="epoch",
                                               max_t=5, grace_period=1, reduction_factor=3, random_seed=s))):
        seed = 0
        tuner = Tuner(trial_backend=LocalBackend(entry_point=str(script)), scheduler=make(seed),
                      stop_criterion=StoppingCriterion(max_wallclock_time=30), n_workers=2,
                      tuner_name=f"fixture-{name.lower()}", sleep_time=0.5,
                      metadata={"algorithm": name, "benchmark": "quadratic", "seed": seed})
        tuner.run()
        src = Path(tuner.tuner_path)
        dst = out / f"{name}-seed{seed}"
        dst.mkdir(parents=True, exist_ok=True)
        for f in ("metadata.json", "results.csv.zip"):
            shutil.copy(src / f, dst / f)
        print(f"{name}: {dst}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
