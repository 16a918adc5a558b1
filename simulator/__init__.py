"""Discrete-event simulation of HPO runs on blackboxes: exact, deterministic and fast.

Example:
    >>> from simulator import simulate, make_scheduler, Stop, SimulationResult
    >>> Stop(max_time=60).active()
    {'max_time': 60.0}
"""
from __future__ import annotations

from simulator.overhead import Overhead, OverheadError
from simulator.results import SimulationResult
from simulator.simulate import SchedulerProtocolError, SimulationError, bind_scheduler, make_scheduler, simulate
from simulator.stopping import Stop, StopError

__all__ = ["simulate", "make_scheduler", "Stop", "StopError", "Overhead", "OverheadError",
           "SimulationResult", "SimulationError", "SchedulerProtocolError", "bind_scheduler"]
