"""Write ``yahpo_lcbench_reference.csv``: YAHPO Gym's own LCBench predictions, for hposim's test to compare with.

Not part of hposim and not run by the test suite (yahpo-gym 1.0.2 needs numpy<2 and ConfigSpace<=0.6.1).
Run it in a throwaway venv outside the repository, with HOME pointed at a temporary folder because
``yahpo_gym.local_config`` writes ``~/.config/yahpo_gym``::

    python3.11 -m venv /tmp/yahpo-venv
    /tmp/yahpo-venv/bin/pip install yahpo-gym==1.0.2     # numpy 1.26.4, ConfigSpace 0.6.1, onnxruntime 1.31.1
    HOME=$(mktemp -d) /tmp/yahpo-venv/bin/python tests/blackbox_repo/recipes/data/make_yahpo_lcbench_reference.py \\
        /work/shared/data/yahpo-surrogates tests/blackbox_repo/recipes/data/yahpo_lcbench_reference.csv

The configurations are drawn by ConfigSpace from YAHPO's own search space (``get_opt_space``, seed 7 + task
index), independently of hposim's sampler; every configuration is evaluated at each of ``EPOCHS`` through
``BenchmarkSet("lcbench").objective_function`` (input checking on) for each task in ``TASKS``.
"""
from __future__ import annotations

import csv
import sys
from importlib.metadata import version

TASKS = ("3945", "167168")
EPOCHS = (1, 2, 10, 26, 52)
N_CONFIGS = 20
HYPERPARAMETERS = ("batch_size", "learning_rate", "max_dropout", "max_units", "momentum", "num_layers",
                   "weight_decay")


def main(data_path: str, out: str) -> None:
    from yahpo_gym import benchmark_set, local_config

    local_config.init_config()
    local_config.set_data_path(data_path)
    bench = benchmark_set.BenchmarkSet("lcbench", active_session=False)
    targets = list(bench.config.y_names)
    rows = []
    for k, task in enumerate(TASKS):
        bench.set_instance(task)
        space = bench.get_opt_space(drop_fidelity_params=True, seed=7 + k)
        configs = [c.get_dictionary() for c in space.sample_configuration(N_CONFIGS)]
        queries = [{**c, "epoch": e} for c in configs for e in EPOCHS]
        for q, y in zip(queries, bench.objective_function(queries)):
            rows.append([task, q["epoch"]] + [q[h] for h in HYPERPARAMETERS]
                        + [repr(float(y[t])) for t in targets])
    versions = ", ".join(f"{p} {version(p)}" for p in ("yahpo-gym", "onnxruntime", "numpy", "ConfigSpace"))
    with open(out, "w", newline="") as f:
        f.write(f"# YAHPO Gym lcbench objective_function outputs ({versions}; Python "
                f"{sys.version.split()[0]}), written by make_yahpo_lcbench_reference.py; see README.md\n")
        w = csv.writer(f)
        w.writerow(["OpenML_task_id", "epoch", *HYPERPARAMETERS, *targets])
        w.writerows(rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
