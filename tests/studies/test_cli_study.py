"""``hposim study ...`` end to end on a small study (real simulator, toy blackbox)."""
from __future__ import annotations

import struct

import yaml

from methods.random_search import RandomSearch
from studies.cli import main
from test_study_simulated import toy_study


def _spec(tmp_path, **kw) -> str:
    p = tmp_path / "study.yaml"
    p.write_text(yaml.safe_dump(toy_study(**kw).to_dict()))
    return str(p)


def test_run_status_plot_report_compare_export(tmp_path, toy_blackboxes, capsys):
    spec = _spec(tmp_path, seeds=4)
    root = str(tmp_path / "results")
    assert main(["study", "run", spec, "--root", root, "--engine", "serial"]) == 0
    out = capsys.readouterr()
    assert "24 done now, 0 failed" in out.out
    assert "[24/24]" in out.err                 # plain progress lines (not a TTY)
    assert main(["study", "status", f"{root}/sim"]) == 0
    status = capsys.readouterr().out
    assert status.startswith("24 runs: 24 done, 0 failed, 0 running, 0 missing")
    assert main(["study", "plot", f"{root}/sim", "--out", str(tmp_path / "figs"), "--log-x", "--format", "png"]) == 0
    figs = {p.name for p in (tmp_path / "figs").iterdir()}
    assert {"anytime.png", "average_rank.png", "final_boxplots.png", "critical_difference.png", "decision_time.png"} <= figs
    assert main(["study", "report", f"{root}/sim"]) == 0
    report = tmp_path / "results" / "sim" / "report"
    html = (report / "report.html").read_text()
    assert "data:image/png;base64," in html and "<b>" in html
    md = (report / "report.md").read_text()
    assert "## Final performance" in md and "![anytime](figures/anytime.png)" in md and "**" in md
    assert (report / "run_status.csv").read_text().count("\n") == 25
    capsys.readouterr()
    code = main(["study", "compare", f"{root}/sim", "--baseline", "ASHA", "--candidate", "RS"])
    assert code in (0, 1) and "vs baseline ASHA" in capsys.readouterr().out
    assert main(["study", "export-tensorboard", f"{root}/sim", "--out", str(tmp_path / "tb")]) == 0
    events = list((tmp_path / "tb" / "t1" / "RS" / "seed-0").rglob("events.out.tfevents.*"))
    assert len(events) == 1                                       # one event file per run
    assert len([p for p in (tmp_path / "tb").rglob("*") if p.is_file()]) == 24
    tags = _check_tfrecord(events[0].read_bytes())
    assert {"incumbent/valid_error", "trials/valid_error", "trials/fidelity", "hparam/best_valid_error",
            "hparam/n_trials"} <= tags
    assert sum(t.startswith("trial-") and t.endswith("/valid_error") for t in tags) == 5   # 5 best trials' curves


def _check_tfrecord(data: bytes) -> set[str]:
    """Every record's length and data CRCs are valid (what TensorBoard checks when reading)."""
    from tensorboardX.proto import event_pb2
    from tensorboardX.record_writer import masked_crc32c

    i, n, tags = 0, 0, set()
    while i < len(data):
        header = data[i:i + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[i + 8:i + 12])[0] == masked_crc32c(header)
        body = data[i + 12:i + 12 + length]
        assert struct.unpack("<I", data[i + 12 + length:i + 16 + length])[0] == masked_crc32c(body)
        ev = event_pb2.Event()
        ev.ParseFromString(body)
        tags |= {v.tag for v in ev.summary.value}
        i += 16 + length
        n += 1
    assert n >= 2 and tags
    return tags


class _FailsInTheRun(RandomSearch):
    """A method that passes the spec check (it can be built) and fails once the run asks it."""

    def suggest(self, time):
        raise RuntimeError("this method fails in every run")


def test_failures_give_exit_1_and_summary(tmp_path, toy_blackboxes, capsys, monkeypatch):
    # bad arguments (e.g. reduction_factor: 0) now fail the spec check; a run failure needs a
    # method that can be built and fails while running
    from methods import METHODS

    monkeypatch.setitem(METHODS, "FailsInTheRun", _FailsInTheRun)
    spec = _spec(tmp_path, seeds=1, methods={"RS": {"method": "RandomSearch"},
                                             "bad": {"method": "FailsInTheRun"}})
    assert main(["study", "run", spec, "--root", str(tmp_path / "r"), "--engine", "serial", "-q"]) == 1
    err = capsys.readouterr().err
    assert "2 failed" in err and "t1/bad/0" in err and "failed runs:" in err
    assert main(["study", "status", str(tmp_path / "r" / "sim")]) == 0
    assert "failed t1/bad/0" in capsys.readouterr().out


def test_bad_spec_is_one_error_line(tmp_path, toy_blackboxes, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nseeds: 2\nmethods: {RS: {method: RandomSearch}}\n"
                 "benchmarks: {t1: {blackbox: toy/t1, max_time: 10, n_worker: 2}}\n")
    assert main(["study", "run", str(p), "--root", str(tmp_path / "r")]) == 2   # bad input
    err = capsys.readouterr().err
    assert "hposim: error:" in err and "'n_worker'" in err and "Did you mean 'n_workers'" in err
    assert not (tmp_path / "r").exists()
    assert main(["study", "status", str(tmp_path / "nope" / "study")]) == 2   # bad input
    assert "does not exist" in capsys.readouterr().err


def test_not_a_study_folder_is_an_input_error_with_a_suggestion(tmp_path, capsys):
    """status/report/plot/compare/export-tensorboard on a folder that is not a study: exit 2,
    nothing written into it, and the study folder it probably meant is suggested."""
    from fakes import fake_run, fake_study_dict
    from studies import Study, run_study

    run_study(Study.from_dict(fake_study_dict(name="demo", seeds=1)), str(tmp_path / "results"),
              run_fn=fake_run, validate=False, progress=False)
    stray = tmp_path / "stray"
    stray.mkdir()
    cases = [(["study", "status", str(stray)], None),
             (["study", "report", str(stray)], None),
             (["study", "plot", str(stray)], None),
             (["study", "compare", str(stray), "--baseline", "A", "--candidate", "B"], None),
             (["study", "export-tensorboard", str(stray), "--out", str(tmp_path / "tb")], None),
             (["study", "status", str(tmp_path / "results")], "results/demo"),        # the root, not the study
             (["study", "report", str(tmp_path / "results" / "demo" / "b1")], "results/demo"),  # inside it
             (["study", "status", str(tmp_path / "results" / "dmeo")], "results/demo")]         # a typo
    for argv, hint in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "not a study folder" in err or "does not exist" in err, err
        if hint:
            assert f"Did you mean '{tmp_path / hint}'" in err, err
    assert list(stray.iterdir()) == [] and not (tmp_path / "results" / "report").exists()
    assert not (tmp_path / "results" / "demo" / "b1" / "report").exists()


def test_a_changed_spec_is_refused_until_a_stale_flag_chooses(tmp_path, toy_blackboxes, capsys):
    spec = _spec(tmp_path, seeds=1, methods={"RS": {"method": "RandomSearch"}})
    root = str(tmp_path / "results")
    assert main(["study", "run", spec, "--root", root, "--engine", "serial", "-q"]) == 0
    changed = _spec(tmp_path, seeds=1, methods={"RS": {"method": "RandomSearch"}}, max_time=100)
    capsys.readouterr()
    assert main(["study", "run", changed, "--root", root, "--engine", "serial", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hposim: error: study 'sim' at ")
    assert "2 stored run(s) were produced with other settings" in err
    assert "t1 / RS: 1 run (seed 0): benchmark.stop.max_time: 150.0 -> 100.0" in err
    assert "--rerun-stale" in err and "--keep-stale" in err
    assert main(["study", "run", changed, "--root", root, "--rerun-stale", "--keep-stale"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["study", "run", changed, "--root", root, "--engine", "serial", "-q", "--keep-stale"]) == 0
    assert "2 already done (of which 2 stale, kept: --keep-stale), 0 done now" in capsys.readouterr().out
    assert main(["study", "status", f"{root}/sim"]) == 0
    assert "stale: 2 done run(s)" in capsys.readouterr().out
    assert main(["study", "run", changed, "--root", root, "--engine", "serial", "-q", "--rerun-stale"]) == 0
    assert "2 done now, 0 failed" in capsys.readouterr().out
    assert main(["study", "status", f"{root}/sim"]) == 0
    assert "stale" not in capsys.readouterr().out
