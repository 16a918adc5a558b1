"""HPO methods behind one protocol (see ``methods.base``) and a registry of names."""
from __future__ import annotations

from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.registry import METHODS, create, method_arguments, register

__all__ = ["Decision", "MethodError", "Scheduler", "Suggestion", "Trial", "TrialStatus",
           "METHODS", "create", "method_arguments", "register"]
