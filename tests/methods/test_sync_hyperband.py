from __future__ import annotations

import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import Decision, MethodError, TrialStatus, create
from methods.sync_hyperband import SyncHyperband, SyncSH

SPACE = ConfigurationSpace({"x": uniform(0, 1)})
F27 = list(range(1, 28))
F81 = list(range(1, 82))


class Driver:
    """Hands out trial ids for starts, like a simulator does."""

    def __init__(self, scheduler):
        self.s = scheduler
        self.trials = {}

    def suggest(self):
        from methods import Trial
        sug = self.s.suggest(0.0)
        if sug is not None and sug.config is not None:
            tid = len(self.trials)
            self.trials[tid] = Trial(tid, sug.config, sug.meta)
            return sug, tid
        return sug, None if sug is None else sug.resume

    def fill(self):
        """All suggestions until "nothing now": list of (suggestion, trial id)."""
        out = []
        while True:
            sug, tid = self.suggest()
            if sug is None:
                return out
            out.append((sug, tid))

    def report(self, tid, fidelity, value):
        return self.s.on_report(self.trials[tid], fidelity, {"loss": value}, 0.0)


def loss(tid):
    """A fixed, distinct value per trial: (tid * 7) % 101."""
    return float((tid * 7) % 101)


def test_sync_sh_rungs_27_9_3_1_and_nothing_now_while_waiting():
    d = Driver(SyncSH(SPACE, metric="loss", fidelity_values=F27, seed=0))
    jobs = d.fill()
    assert len(jobs) == 27 and all(s.config is not None and s.max_fidelity == 1 for s, _ in jobs)
    ids = [tid for _, tid in jobs]
    for tid in ids[:-1]:
        assert d.report(tid, 1, loss(tid)) == Decision.PAUSE
        assert d.suggest()[0] is None                   # rung still filling
    d.report(ids[-1], 1, loss(ids[-1]))
    for size, level in [(9, 3), (3, 9), (1, 27)]:
        jobs = d.fill()
        assert [s.max_fidelity for s, _ in jobs] == [level] * size
        promoted = [s.resume for s, _ in jobs]
        assert promoted == sorted(ids, key=loss)[:size]  # the best of the previous rung, best first
        ids = promoted
        for tid in ids:
            decision = d.report(tid, level, loss(tid))
            assert decision == (Decision.CONTINUE if level == 27 else Decision.PAUSE)
    # the round is over: a new one starts 27 new configurations
    jobs = d.fill()
    assert len(jobs) == 27 and min(tid for _, tid in jobs) == 27


def test_failed_trials_count_as_worst_and_are_never_promoted():
    d = Driver(SyncSH(SPACE, metric="loss", fidelity_values=F27, seed=0))
    ids = [tid for _, tid in d.fill()]
    best = ids[:5]
    for tid in ids:
        if tid in best:
            d.s.on_end(d.trials[tid], TrialStatus.FAILED)    # the would-be best fail
        else:
            d.report(tid, 1, loss(tid))
    promoted = [s.resume for s, _ in d.fill()]
    assert len(promoted) == 9 and not set(promoted) & set(best)


def test_rung_shrinks_when_few_trials_survive():
    d = Driver(SyncSH(SPACE, metric="loss", fidelity_values=F27, seed=0))
    ids = [tid for _, tid in d.fill()]
    for tid in ids:
        if tid < 23:
            d.s.on_end(d.trials[tid], TrialStatus.FAILED)
        else:
            d.report(tid, 1, loss(tid))
    assert sorted(s.resume for s, _ in d.fill()) == [23, 24, 25, 26]


def test_mode_max_promotes_the_largest():
    d = Driver(SyncSH(SPACE, metric="loss", mode="max", fidelity_values=[1, 2, 3], seed=0))
    ids = [tid for _, tid in d.fill()]
    assert len(ids) == 3
    for tid in ids:
        d.report(tid, 1, float(tid))
    assert [s.resume for s, _ in d.fill()] == [2]


def test_candidates_running_out_close_the_rung():
    cands = [{"x": i / 10} for i in range(5)]
    d = Driver(SyncSH(SPACE, metric="loss", fidelity_values=F27, candidates=cands, seed=0))
    ids = [tid for _, tid in d.fill()]
    assert len(ids) == 5
    for tid in ids:
        d.report(tid, 1, loss(tid))
    jobs = d.fill()                                 # floor(5/3) = 1 survivor, then 1, 1
    assert [(s.resume, s.max_fidelity) for s, _ in jobs] == [(sorted(ids, key=loss)[0], 3)]
    d.report(jobs[0][1], 3, 0.0)
    (s, tid), = d.fill()
    assert s.max_fidelity == 9
    d.report(tid, 9, 0.0)
    (s, tid), = d.fill()
    d.report(tid, 27, 0.0)
    assert d.fill() == [] and d.s.suggest(1.0) is None


def test_sync_hyperband_bracket_sizes_as_in_the_paper():
    hb = SyncHyperband(SPACE, metric="loss", fidelity_values=F81, seed=0)
    assert hb.brackets == 5
    assert [hb.bracket_sizes(b)[0] for b in range(5)] == [
        [81, 27, 9, 3, 1], [34, 11, 3, 1], [15, 5, 1], [8, 2], [5]]


def run_bracket(d):
    """Run the current bracket to its end; return [(rung size, level), ...]."""
    shape = []
    while True:
        jobs = d.fill()
        if not jobs:
            return shape
        level = jobs[0][0].max_fidelity
        shape.append((len(jobs), level))
        for _, tid in jobs:
            d.report(tid, level, loss(tid))
        if level == 81:
            return shape


def test_sync_hyperband_cycles_its_brackets():
    d = Driver(SyncHyperband(SPACE, metric="loss", fidelity_values=F81, seed=0))
    shapes = [run_bracket(d) for _ in range(6)]
    assert shapes == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    ]


def test_sync_hyperband_with_fewer_brackets():
    d = Driver(create("SyncHyperband", SPACE, metric="loss", fidelity_values=F81, brackets=2))
    assert [run_bracket(d)[0] for _ in range(3)] == [(81, 1), (34, 3), (81, 1)]


def test_reports_below_the_rung_level_continue():
    d = Driver(SyncHyperband(SPACE, metric="loss", fidelity_values=F81, brackets=2, seed=0))
    run_bracket(d)
    jobs = d.fill()
    tid = jobs[0][1]
    assert d.report(tid, 1, 5.0) == Decision.CONTINUE   # passing level 1 on its way to 3
    assert d.report(tid, 3, 5.0) == Decision.PAUSE


def test_same_seed_same_configurations():
    def configs(seed):
        return [s.config for s, _ in Driver(SyncSH(SPACE, metric="loss", fidelity_values=F27,
                                                   seed=seed)).fill()]
    assert configs(4) == configs(4) and configs(4) != configs(5)


def test_bad_brackets():
    with pytest.raises(MethodError, match=r"brackets=7 is not valid.*1\.\.5"):
        SyncHyperband(SPACE, metric="loss", fidelity_values=F81, brackets=7)
