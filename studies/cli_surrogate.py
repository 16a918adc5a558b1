"""``hposim blackbox surrogate``: fit a surrogate of a tabulated blackbox, print its report
card, and save it into the cache (``studies.cli_blackbox`` adds it to ``hposim blackbox``).

Example (shell)::

    hposim blackbox surrogate mlp-sklearn/iris --model xgboost --seeds average --max-configs 5000
    hposim blackbox info mlp-sklearn-xgboost/iris      # shows the report card
"""
from __future__ import annotations

import argparse
from typing import Any

from blackbox_repo import repository
from blackbox_repo.storage import validate_name
from blackbox_repo.surrogate import MODELS, SEED_MODES, SurrogateBlackbox, add_surrogate
from studies.cli_args import key_values
from studies.cli_errors import CommandError, UsageError

__all__ = ["register_surrogate", "cmd_surrogate", "parse_params"]


def register_surrogate(sub: argparse._SubParsersAction) -> None:
    """Add ``surrogate`` to the ``hposim blackbox`` subcommands."""
    p = sub.add_parser(
        "surrogate", help="fit a surrogate model of a blackbox, print its report card, save it",
        description="Fit a model mapping a configuration to its whole learning curve, measure it on "
                    "held-out configurations (report card), and save it into the cache as a new "
                    "blackbox NEWNAME/TASK that simulations can use like a table.")
    p.add_argument("ref", metavar="NAME/TASK", help="the tabulated blackbox to imitate")
    p.add_argument("--model", default="knn", choices=MODELS,
                   help="knn (default: the nearest tabulated configuration), random_forest, mlp "
                        "or xgboost (needs `pip install hposim[surrogates]`)")
    p.add_argument("--seeds", default="separate", choices=SEED_MODES,
                   help="model each seed's curve (separate, default) or their mean (average)")
    p.add_argument("--max-configs", type=int, metavar="N",
                   help="fit on a random subset of N configurations (large tables)")
    p.add_argument("--name", metavar="NEWNAME",
                   help="name of the saved surrogate (default: NAME-MODEL)")
    p.add_argument("--random-state", type=int, default=0, help="seed of the split, subsampling and model")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a model argument, e.g. --param n_estimators=50 (VALUE parsed as JSON when "
                        "possible); repeatable")
    p.add_argument("--force", action="store_true", help="overwrite an existing blackbox NEWNAME/TASK")
    p.set_defaults(func=cmd_surrogate)


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["n_estimators=50", "max_depth=4"]`` -> ``{"n_estimators": 50, "max_depth": 4}`` (``--param``).

    Example:
        >>> parse_params(["k=1", "name=relu", "sizes=[64, 64]"])
        {'k': 1, 'name': 'relu', 'sizes': [64, 64]}
    """
    return key_values(items, "--param", "n_estimators=50")


def cmd_surrogate(args: argparse.Namespace) -> int:
    name, task = repository.parse_blackbox_ref(args.ref)
    if task is None:
        found = repository.load_blackbox(name)
        if len(found) != 1:
            raise UsageError(f"blackbox {name!r} has {len(found)} tasks ({', '.join(found)}); "
                             f"choose one: hposim blackbox surrogate {name}/<task>")
        (task, table), = found.items()
    else:
        table = repository.load_blackbox(name, task)
    if isinstance(table, SurrogateBlackbox):
        table = table.table
    new_name = args.name or f"{name}-{args.model}"
    validate_name(new_name, "blackbox name")
    if new_name == name:
        raise UsageError(f"--name {new_name!r} is the blackbox being imitated; choose another name")
    if args.max_configs is not None and args.max_configs < 2:
        raise UsageError(f"--max-configs {args.max_configs} is not valid; it must be at least 2")
    existing = next((r for r in repository.list_blackboxes() if r.name == new_name), None)
    if existing is not None and existing.kind != "cached":
        raise UsageError(f"--name {new_name!r} is the name of a {existing.kind} blackbox; choose another --name")
    if existing is not None and task in existing.tasks and not args.force:
        raise CommandError(f"{new_name}/{task} already exists in the cache; pass --force to overwrite it "
                           f"or choose another --name")
    params = parse_params(args.param)
    print(f"fitting a {args.model} surrogate of {name}/{task} ({table.n_configs} configurations)...",
          flush=True)
    sur = add_surrogate(table, args.model, seeds=args.seeds, max_configs=args.max_configs,
                        random_state=args.random_state, **params)
    print(sur.card.text())
    try:
        folder = sur.save(new_name, task, force=args.force)
    except repository.BlackboxExistsError:
        raise CommandError(f"{new_name}/{task} was created while the surrogate was fitted; pass --force "
                           f"to overwrite it or choose another --name") from None
    print(f"saved {new_name}/{task} -> {folder}")
    print(f"Inspect it with: hposim blackbox info {new_name}/{task}")
    return 0
