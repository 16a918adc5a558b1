"""Tests of blackbox_repo.generate: grids, spaces, parallelism, checkpoints, failures, validation."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from blackbox_repo import ConfigurationSpace, TabularBlackbox, choice, loguniform, randint
from blackbox_repo.generate import GenerationError, generate

FIDELITIES = [1, 2, 3, 4]
OBJECTIVES = ["loss", "time"]


def curve_fn(config, seed):
    """Deterministic learning curves: loss decays at a rate set by the configuration."""
    epochs = np.arange(1, 5)
    rate = config["x"] * (2.0 if config["opt"] == "b" else 1.0)
    return {"loss": 1.0 / (1.0 + rate * epochs) + 0.01 * seed,
            "time": np.cumsum(np.full(4, 0.5 * config["x"]))}


def grid():
    return [{"x": x, "opt": o} for x in (1, 2, 3) for o in ("a", "b")]


class CountingFn:
    """Counts calls in this process and can stop the generation like Ctrl-C after ``interrupt_after``."""

    def __init__(self, interrupt_after=None, fail_when=None):
        self.calls = []
        self.interrupt_after = interrupt_after
        self.fail_when = fail_when

    def __call__(self, config, seed):
        if self.interrupt_after is not None and len(self.calls) >= self.interrupt_after:
            raise KeyboardInterrupt
        self.calls.append((config["x"], config["opt"], seed))
        if self.fail_when is not None and self.fail_when(config, seed):
            raise RuntimeError(f"training diverged for x={config['x']}")
        return curve_fn(config, seed)


def test_grid_values_and_shape():
    bb = generate(curve_fn, grid(), FIDELITIES, seeds=2, objectives_names=OBJECTIVES,
                  metric_elapsed_time="time", progress=False)
    assert isinstance(bb, TabularBlackbox)
    assert bb.shape == (6, 2, 4, 2)
    assert bb.fidelity_values.tolist() == FIDELITIES
    assert bb.metric == "loss" and bb.mode == "min" and bb.metric_elapsed_time == "time"
    assert bb.configs() == grid()
    for i, cfg in enumerate(grid()):
        for s in range(2):
            expected = curve_fn(cfg, s)
            np.testing.assert_allclose(bb.curve(i, s)[:, 0], expected["loss"], rtol=1e-6)
            np.testing.assert_allclose(bb.curve(i, s)[:, 1], expected["time"], rtol=1e-6)
    assert bb.evaluate({"x": 3, "opt": "b"}, fidelity=2, seed=1)["loss"] == pytest.approx(1 / 13 + 0.01)
    report = bb.metadata["generation"]
    assert report["n_computed"] == 12 and report["n_failed"] == 0 and report["n_resumed"] == 0
    assert bb.metadata["seeds"] == [0, 1]


def test_explicit_seed_values_are_passed_to_fn():
    fn = CountingFn()
    bb = generate(fn, grid()[:2], FIDELITIES, seeds=[7, 11], objectives_names=OBJECTIVES, progress=False)
    assert sorted({s for _, _, s in fn.calls}) == [7, 11]
    assert bb.num_seeds == 2
    np.testing.assert_allclose(bb.curve(0, 1)[:, 0], curve_fn(grid()[0], 11)["loss"], rtol=1e-6)


def test_finite_space_gives_its_grid():
    space = ConfigurationSpace({"x": randint(1, 3), "opt": choice(["a", "b"])})
    bb = generate(curve_fn, space, FIDELITIES, seeds=1, objectives_names=OBJECTIVES, progress=False)
    assert bb.n_configs == 6
    assert bb.configuration_space == space
    assert sorted(map(str, bb.configs())) == sorted(map(str, space.grid()))
    sub = generate(curve_fn, space, FIDELITIES, seeds=1, n_configs=4, random_state=3,
                   objectives_names=OBJECTIVES, progress=False)
    assert sub.n_configs == 4 and len({str(c) for c in sub.configs()}) == 4


def test_continuous_space_is_sampled_reproducibly_and_rounded():
    space = ConfigurationSpace({"x": loguniform(0.1, 10.0), "opt": choice(["a", "b"])})
    kwargs = dict(fidelities=FIDELITIES, seeds=1, n_configs=25, objectives_names=OBJECTIVES,
                  significant_digits=4, progress=False)
    a = generate(curve_fn, space, random_state=5, **kwargs)
    b = generate(curve_fn, space, random_state=5, **kwargs)
    c = generate(curve_fn, space, random_state=6, **kwargs)
    assert a.configs() == b.configs() and a.configs() != c.configs()
    assert a.n_configs == 25 and len({str(cfg) for cfg in a.configs()}) == 25
    assert a.configuration_space == space
    for cfg in a.configs():
        space.validate(cfg)
        assert cfg["x"] == float(f"{cfg['x']:.4g}")
    with pytest.raises(GenerationError, match=r"continuous hyperparameters \['x'\].*n_configs"):
        generate(curve_fn, space, FIDELITIES, 1, objectives_names=OBJECTIVES, progress=False)


def test_parallel_equals_serial():
    kwargs = dict(fidelities=FIDELITIES, seeds=3, objectives_names=OBJECTIVES,
                  metric_elapsed_time="time", progress=False)
    one = generate(curve_fn, grid(), n_jobs=1, **kwargs)
    two = generate(curve_fn, grid(), n_jobs=2, **kwargs)
    np.testing.assert_array_equal(one.objectives, two.objectives)
    assert one.configs() == two.configs()


def test_real_sklearn_model_parallel_equals_serial():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import SGDClassifier

    X, y = load_iris(return_X_y=True)

    def fn(config, seed):
        clf = SGDClassifier(alpha=config["alpha"], loss=config["loss"], random_state=seed)
        errors = []
        for _ in range(5):
            clf.partial_fit(X[::2], y[::2], classes=np.unique(y))
            errors.append(1.0 - clf.score(X[1::2], y[1::2]))
        return {"valid_error": errors}

    space = ConfigurationSpace({"alpha": loguniform(1e-5, 1e-1), "loss": choice(["hinge", "log_loss"])})
    kwargs = dict(fidelities=range(1, 6), seeds=2, n_configs=6, objectives_names=["valid_error"],
                  progress=False)
    one = generate(fn, space, n_jobs=1, **kwargs)
    two = generate(fn, space, n_jobs=2, **kwargs)
    np.testing.assert_array_equal(one.objectives, two.objectives)
    assert np.all((one.objectives >= 0) & (one.objectives <= 1))


def test_interrupted_generation_resumes_without_recomputing(tmp_path):
    ckpt = tmp_path / "ckpt"
    kwargs = dict(fidelities=FIDELITIES, seeds=2, objectives_names=OBJECTIVES,
                  checkpoint_dir=ckpt, progress=False)
    first = CountingFn(interrupt_after=5)
    with pytest.raises(KeyboardInterrupt):
        generate(first, grid(), **kwargs)
    assert len(first.calls) == 5
    assert len(list(ckpt.glob("chunk-*.npy"))) == 5
    assert not list(ckpt.glob(".tmp-*"))

    second = CountingFn()
    bb = generate(second, grid(), **kwargs)
    assert len(second.calls) == 12 - 5
    assert not set(first.calls) & set(second.calls)
    report = bb.metadata["generation"]
    assert report["n_resumed"] == 5 and report["n_computed"] == 7
    manifest = json.loads((ckpt / "manifest.json").read_text())
    assert manifest["runs"] == 2  # the interrupted run counted its time too
    assert report["wall_seconds_total"] == pytest.approx(manifest["wall_seconds_total"])
    assert report["wall_seconds_total"] > report["wall_seconds"] > 0
    reference = generate(curve_fn, grid(), fidelities=FIDELITIES, seeds=2, objectives_names=OBJECTIVES,
                         progress=False)
    np.testing.assert_array_equal(bb.objectives, reference.objectives)

    third = CountingFn()
    again = generate(third, grid(), **kwargs)
    assert third.calls == [] and again.metadata["generation"]["n_resumed"] == 12
    np.testing.assert_array_equal(again.objectives, reference.objectives)


def test_unreadable_chunk_is_recomputed(tmp_path):
    kwargs = dict(fidelities=FIDELITIES, seeds=1, objectives_names=OBJECTIVES, checkpoint_dir=tmp_path,
                  progress=False)
    generate(curve_fn, grid(), **kwargs)
    victim = sorted(tmp_path.glob("chunk-*.npy"))[2]
    victim.write_bytes(victim.read_bytes()[:20])
    fn = CountingFn()
    bb = generate(fn, grid(), **kwargs)
    assert len(fn.calls) == 1
    assert not np.isnan(bb.objectives).any()


def test_checkpoint_of_another_generation_is_refused(tmp_path):
    generate(curve_fn, grid(), FIDELITIES, 1, objectives_names=OBJECTIVES, checkpoint_dir=tmp_path,
             progress=False)
    with pytest.raises(GenerationError, match="different generation.*another folder"):
        generate(curve_fn, grid()[:3], FIDELITIES, 1, objectives_names=OBJECTIVES,
                 checkpoint_dir=tmp_path, progress=False)


def test_failed_calls_become_nan_and_are_counted(tmp_path):
    fn = CountingFn(fail_when=lambda config, seed: config["x"] == 2 and seed == 1)
    with pytest.warns(RuntimeWarning, match="2 of 12 calls of fn failed.*diverged"):
        bb = generate(fn, grid(), FIDELITIES, 2, objectives_names=OBJECTIVES, checkpoint_dir=tmp_path,
                      progress=False)
    report = bb.metadata["generation"]
    assert report["n_failed"] == 2 and report["n_computed"] == 10
    assert {(f["config_id"], f["seed"]) for f in report["failures"]} == {(2, 1), (3, 1)}
    assert "RuntimeError: training diverged for x=2" in report["failures"][0]["error"]
    assert np.isnan(bb.objectives[2:4, 1]).all()
    assert not np.isnan(bb.objectives[:, 0]).any()
    assert np.isnan(bb.objectives).sum() == 2 * 4 * 2
    # failures are not checkpointed: a rerun retries exactly them
    retry = CountingFn()
    healed = generate(retry, grid(), FIDELITIES, 2, objectives_names=OBJECTIVES, checkpoint_dir=tmp_path,
                      progress=False)
    assert sorted(retry.calls) == [(2, "a", 1), (2, "b", 1)]
    assert not np.isnan(healed.objectives).any()


def test_all_calls_failing_raises():
    fn = CountingFn(fail_when=lambda config, seed: True)
    with pytest.raises(GenerationError, match="every one of the 6 calls of fn failed.*diverged"):
        generate(fn, grid(), FIDELITIES, 1, objectives_names=OBJECTIVES, progress=False)


@pytest.mark.parametrize("bad, message", [
    ({"loss": [1, 2, 3, 4]}, r"config #0 \{'x': 1, 'opt': 'a'\}, seed=0\) did not return objective\(s\) \['time'\]"),
    ({"loss": [1, 2, 3], "time": [1, 2, 3, 4]}, r"seed=0\) returned shape \(3,\) for objective 'loss'; expected a sequence of 4"),
    ({"loss": 0.5, "time": [1, 2, 3, 4]}, r"returned a scalar for objective 'loss'"),
    ({"loss": [1, 2, 3, 4], "time": [1, 2, 3, 4], "acc": [0, 0, 0, 0]}, r"unknown objective\(s\) \['acc'\]"),
    ({"loss": ["a", "b", "c", "d"], "time": [1, 2, 3, 4]}, r"non-numeric values for objective 'loss'"),
    ({"loss": [1, 2, 3, 4], "time": [1, 3, 2, 4]}, r"decreasing elapsed time 'time'"),
    ([1, 2, 3], r"returned a list; expected a dict objective -> sequence of 4 values"),
    # issue 11: infinities and values beyond float32 were stored silently; negative elapsed time too
    ({"loss": [1, 2, float("-inf"), 4], "time": [1, 2, 3, 4]},
     r"returned -inf for objective 'loss' at fidelity index 2: .*return NaN for a failed"),
    ({"loss": [1, 2, 3, 1e300], "time": [1, 2, 3, 4]}, r"returned 1e\+300 for objective 'loss' at fidelity index 3"),
    ({"loss": [1, 2, 3, 4], "time": [1, 2, 3, float("inf")]}, r"returned inf for objective 'time'"),
    ({"loss": [1, 2, 3, 4], "time": [-1, 2, 3, 4]}, r"negative elapsed time -1.0 for 'time' at fidelity index 0"),
])
def test_bad_returns_are_rejected(bad, message):
    with pytest.raises(GenerationError, match=message):
        generate(lambda config, seed: bad, grid()[:2], FIDELITIES, 1,
                 objectives_names=OBJECTIVES, metric_elapsed_time="time", progress=False)


def test_metric_named_like_a_result_column_is_refused_before_running():
    calls = []
    for objectives, kw in ((["time"], {}), (["loss", "fidelity"], {"metric": "fidelity"})):
        with pytest.raises(GenerationError, match="is the name of a column the simulator adds"):
            generate(lambda c, s: calls.append(1), grid(), FIDELITIES, 1, objectives_names=objectives,
                     progress=False, **kw)
    assert calls == []


def test_bad_return_in_a_worker_process_is_rejected():
    with pytest.raises(GenerationError, match=r"config #1 \{'x': 1, 'opt': 'b'\}, seed=0\) did not return"):
        generate(lambda config, seed: curve_fn(config, seed) if config["opt"] == "a" else {"loss": [0] * 4},
                 grid()[:2], FIDELITIES, 1, n_jobs=2, objectives_names=OBJECTIVES, progress=False)


def test_bad_inputs_are_rejected():
    ok = dict(objectives_names=OBJECTIVES, progress=False)
    with pytest.raises(GenerationError, match=r"configurations #0 and #2 are the same"):
        generate(curve_fn, [grid()[0], grid()[1], grid()[0]], FIDELITIES, 1, **ok)
    with pytest.raises(GenerationError, match=r"configuration #1 .* same hyperparameters"):
        generate(curve_fn, [{"x": 1, "opt": "a"}, {"x": 2}], FIDELITIES, 1, **ok)
    with pytest.raises(GenerationError, match="strictly increasing"):
        generate(curve_fn, grid(), [1, 3, 2, 4], 1, **ok)
    with pytest.raises(GenerationError, match="seeds must be >= 1"):
        generate(curve_fn, grid(), FIDELITIES, 0, **ok)
    with pytest.raises(GenerationError, match="distinct"):
        generate(curve_fn, grid(), FIDELITIES, [1, 1], **ok)
    with pytest.raises(GenerationError, match="metric_elapsed_time='elapsed' is not among"):
        generate(curve_fn, grid(), FIDELITIES, 1, metric_elapsed_time="elapsed", **ok)
    with pytest.raises(GenerationError, match="mode='best' is not valid"):
        generate(curve_fn, grid(), FIDELITIES, 1, mode="best", **ok)
    with pytest.raises(GenerationError, match="n_configs only applies to a ConfigurationSpace"):
        generate(curve_fn, grid(), FIDELITIES, 1, n_configs=3, **ok)
    with pytest.raises(GenerationError, match="must be a ConfigurationSpace or a list"):
        generate(curve_fn, {"x": 1}, FIDELITIES, 1, **ok)
    space = ConfigurationSpace({"x": randint(1, 3), "opt": choice(["a", "b"])})
    with pytest.raises(GenerationError, match="only 6 configurations"):
        generate(curve_fn, space, FIDELITIES, 1, n_configs=7, **ok)


def test_report_is_json_serializable(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bb = generate(CountingFn(fail_when=lambda c, s: c["x"] == 1), grid(), FIDELITIES, 1,
                      objectives_names=OBJECTIVES, checkpoint_dir=tmp_path, progress=False)
    text = json.dumps(bb.metadata)
    assert json.loads(text)["generation"]["n_failed"] == 2
