"""Figures: the x-axis by simulated time or by number of evaluations (NePS's ``neps.plot``)."""
from __future__ import annotations

import pytest

from studies import Study, run_study
from studies.analysis import load_study
from studies.cli import main
from studies.plots import plot_all, plot_anytime, plot_average_rank
from fakes import fake_run, fake_study_dict


@pytest.fixture(scope="module")
def study_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    assert run_study(Study.from_dict(fake_study_dict(seeds=3, max_trials=8)), str(root), run_fn=fake_run,
                     validate=False, progress=False).ok
    return str(root / "fake")


def test_anytime_and_rank_by_evaluations(study_path):
    st = load_study(study_path)
    fig = plot_anytime(st, x="evaluations")
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 2 and all(a.get_xlabel() == "number of evaluations (reports)" for a in axes)
    xs = axes[0].lines[0].get_xdata()
    assert xs.min() == 1 and xs.max() == 24            # 8 trials x 3 fidelities
    assert plot_anytime(st).axes[0].get_xlabel().startswith("simulated time")
    rank = plot_average_rank(st, x="evaluations")
    assert "largest number of evaluations" in rank.axes[0].get_xlabel()
    with pytest.raises(ValueError, match="allowed: 'time', 'evaluations'"):
        plot_all(st, "unused", x="reports")


def test_cli_x_axis_flag_on_plot_and_report(study_path, tmp_path, capsys):
    assert main(["study", "plot", study_path, "--x-axis", "evaluations", "--format", "png",
                 "--out", str(tmp_path / "figs")]) == 0
    assert (tmp_path / "figs" / "anytime.png").exists()
    assert main(["study", "report", study_path, "--x-axis", "evaluations", "--out", str(tmp_path / "rep")]) == 0
    assert "against the number of evaluations (reports)" in (tmp_path / "rep" / "report.md").read_text()
    capsys.readouterr()
    assert main(["study", "plot", study_path, "--x-axis", "trials"]) == 2
    assert "argument --x-axis: invalid choice: 'trials'" in capsys.readouterr().err
