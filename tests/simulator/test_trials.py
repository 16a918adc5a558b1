"""``simulator.trials``: the per-trial lists of a run, shared with its ``Buffers``, and why a
resume is refused."""
from __future__ import annotations

from simulator.assemble import Buffers
from simulator.simulate import make_scheduler, simulate
from simulator.trials import DONE, PAUSED, RUNNING, TrialState
from tests.simulator.helpers import table


def test_the_per_trial_facts_the_results_need_are_the_buffers_lists():
    buf = Buffers()
    trials = TrialState(buf)
    assert trials.cid is buf.t_cid and trials.seed is buf.t_seed
    assert trials.curve is buf.t_curve and trials.configs is buf.t_configs
    assert len(trials) == 0


def test_a_run_leaves_one_entry_per_trial():
    bb = table([[0.5, 0.4], [0.3, 0.2]], [[1, 2], [1, 2]])
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=2, stop={"max_trials": 2})
    assert res.trials["config_id"].tolist() == [0, 1] and res.trials["status"].tolist() == ["completed"] * 2


def test_only_a_paused_trial_can_be_resumed_and_only_further():
    trials = TrialState(Buffers())
    trials.state[:] = [RUNNING, PAUSED, DONE]
    trials.level[:] = [0, 2, 3]
    fids = [1, 2, 4, 8]
    assert "trial 0 at time 3.0, but that trial is running" in trials.resume_problem(0, 3, fids, 3.0)
    assert "trial 2 at time 3.0, but that trial is finished" in trials.resume_problem(2, 3, fids, 3.0)
    assert "trial 9 at time 3.0, but that trial is never started" in trials.resume_problem(9, 3, fids, 3.0)
    assert "trial '1' at time" in trials.resume_problem("1", 3, fids, 3.0)
    assert trials.resume_problem(1, 2, fids, 3.0).endswith(
        "to fidelity 4, but it is already at 4; the max_fidelity of a resume must be larger")
    assert trials.resume_problem(1, 3, fids, 3.0) is None
