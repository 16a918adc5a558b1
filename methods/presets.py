"""Named presets: a registered method with fixed arguments, under the name users know it by.

The presets are the 13 methods of Syne Tune's multi-fidelity tutorial on NAS-Bench-201 (the
``--method`` choices of its launcher ``docs/source/tutorials/multifidelity/code/hpo_main.py`` in
syne-tune 0.13.0, compared in its "Comparison of Methods"), with the meaning they have there:

==================  ==============================================================================
preset              expands to (the tutorial's scheduler and arguments)
==================  ==============================================================================
``ASHA-STOP``       ``ASHA(type="stopping", brackets=1)``
``ASHA-PROM``       ``ASHA(type="promotion", brackets=1)``
``ASHA6-STOP``      ``ASHA(type="stopping", brackets=6)``: asynchronous Hyperband, 6 brackets
``MOBSTER-JOINT``   ``MOBSTER(type="promotion", model="joint")`` (Syne Tune's ``gp_multitask``)
``MOBSTER-INDEP``   ``MOBSTER(type="promotion", model="independent")`` (``gp_independent``)
``HYPERTUNE-INDEP`` ``HyperTune(type="promotion", brackets=1, model="independent")``
``HYPERTUNE4-INDEP`` ``HyperTune(type="promotion", brackets=4, model="independent")``
``HYPERTUNE-JOINT`` ``HyperTune(type="promotion", brackets=1, model="joint")``
``SYNCHB``          ``SyncHyperband(brackets=None)``: every bracket the rung levels allow
``SYNCSH``          ``SyncHyperband(brackets=1)``: synchronous successive halving
``SYNCMOBSTER``     ``SyncMOBSTER()``
``BOHB``            ``SyncBOHB()``: synchronous BOHB, as in the tutorial (``AsyncBOHB`` is the
                    asynchronous one)
``DEHB``            ``DEHB()``
==================  ==============================================================================

Every other argument keeps the method's default and may be passed (``--method-arg`` or a study
spec); a fixed argument cannot be overridden (``create`` raises naming it; passing the very
value it fixes is accepted). A preset resolves wherever a method name is accepted:
``methods.create``, ``simulator.make_scheduler``, ``hposim simulate --method`` and study specs.
An exact method name wins over a preset (``DEHB`` is both, with the same meaning).

Example:
    >>> PRESETS["ASHA6-STOP"].expansion()
    "ASHA(type='stopping', brackets=6)"
    >>> PRESETS["BOHB"].method, dict(PRESETS["SYNCSH"].args)
    ('SyncBOHB', {'brackets': 1})
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

__all__ = ["Preset", "PRESETS", "SOURCE"]

#: where the presets' meaning comes from
SOURCE = ("Syne Tune 0.13.0's multi-fidelity tutorial on NAS-Bench-201 (the --method choices of "
          "docs/source/tutorials/multifidelity/code/hpo_main.py)")


@dataclass(frozen=True)
class Preset:
    """A name for a registered method with fixed arguments.

    Example:
        >>> p = Preset("ASHA-PROM", "ASHA", {"type": "promotion", "brackets": 1}, "ASHA, promotion")
        >>> p.expansion(), p.fixes("type"), p.fixes("grace_period")
        ("ASHA(type='promotion', brackets=1)", True, False)
    """

    name: str
    method: str
    args: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))

    def fixes(self, argument: str) -> bool:
        """True if the preset fixes ``argument``."""
        return argument in self.args

    def expansion(self) -> str:
        """``Method(arg=value, ...)``: what the preset stands for."""
        return f"{self.method}({', '.join(f'{k}={v!r}' for k, v in self.args.items())})"


_PRESETS = (
    Preset("ASHA-STOP", "ASHA", {"type": "stopping", "brackets": 1},
           "ASHA, stopping variant, one bracket (random configurations)"),
    Preset("ASHA-PROM", "ASHA", {"type": "promotion", "brackets": 1},
           "ASHA, promotion (pause-and-resume) variant, one bracket"),
    Preset("ASHA6-STOP", "ASHA", {"type": "stopping", "brackets": 6},
           "asynchronous Hyperband: ASHA, stopping variant, 6 brackets"),
    Preset("MOBSTER-JOINT", "MOBSTER", {"type": "promotion", "model": "joint"},
           "MOBSTER, promotion, one GP over configuration x fidelity (Syne Tune's gp_multitask)"),
    Preset("MOBSTER-INDEP", "MOBSTER", {"type": "promotion", "model": "independent"},
           "MOBSTER, promotion, a GP per rung level with a shared kernel (Syne Tune's gp_independent)"),
    Preset("HYPERTUNE-INDEP", "HyperTune", {"type": "promotion", "brackets": 1, "model": "independent"},
           "Hyper-Tune, promotion, one bracket, independent GPs per rung level"),
    Preset("HYPERTUNE4-INDEP", "HyperTune", {"type": "promotion", "brackets": 4, "model": "independent"},
           "Hyper-Tune, promotion, 4 brackets sampled by the model, independent GPs per rung level"),
    Preset("HYPERTUNE-JOINT", "HyperTune", {"type": "promotion", "brackets": 1, "model": "joint"},
           "Hyper-Tune, promotion, one bracket, one joint GP (Syne Tune's gp_multitask)"),
    Preset("SYNCHB", "SyncHyperband", {"brackets": None},
           "synchronous Hyperband with every bracket the rung levels allow (random configurations)"),
    Preset("SYNCSH", "SyncHyperband", {"brackets": 1},
           "synchronous successive halving: synchronous Hyperband with one bracket"),
    Preset("SYNCMOBSTER", "SyncMOBSTER", {},
           "synchronous Hyperband with MOBSTER's GP searcher (independent GPs per rung level)"),
    Preset("BOHB", "SyncBOHB", {},
           "synchronous BOHB: synchronous Hyperband with TPE's KDEs, every bracket"),
    Preset("DEHB", "DEHB", {},
           "differential evolution Hyperband, every bracket"),
)

#: preset name -> ``Preset``, in the tutorial's order
PRESETS: Mapping[str, Preset] = MappingProxyType({p.name: p for p in _PRESETS})
