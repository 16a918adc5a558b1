"""Surrogate blackboxes: a regressor fitted on a table answers any configuration of a space.

``add_surrogate(table, model=...)`` fits a model that maps an encoded configuration to its
*whole* curve -- every fidelity level x every objective (x every seed, with
``seeds="separate"``) at once, as one multi-output regression -- so a predicted curve is
coherent, and wraps it in a ``SurrogateBlackbox``, which is a ``Blackbox`` like the table.

Models:

- ``knn`` (default; ``n_neighbors=1``): the mean curve of the nearest tabulated
  configurations in the encoded space (exact numpy search; ties go to the first row, like
  ``TabularBlackbox.config_id``). With one neighbour it reproduces the table exactly on
  tabulated configurations, NaN cells included.
- ``random_forest``, ``mlp`` (scikit-learn) and ``xgboost`` (extra ``hposim[surrogates]``,
  one multi-output tree per boosting round). Targets are standardized and, when a curve has
  more than 32 numbers, compressed to 32 principal components (``n_components``). The
  cumulative elapsed time is learnt as per-level increments; predicted increments are
  clipped at 0 and summed, so predicted elapsed time never decreases. Training rows with
  NaN cells are dropped (their columns imputed with the mean when too few rows remain).

Encoding: each hyperparameter's ``[0, 1]`` encoding from the surrogate's configuration
space, categorical choices with more than two values one-hot. The space defaults to the
table's; a different one (e.g. ``loguniform`` instead of the tabulated grid of values) lets
the surrogate answer configurations that are not in the table. Methods then sample from it:
``simulator.make_scheduler`` passes table rows as ``candidates`` only for tabular blackboxes.

The package, one job per module (docs/architecture.md#module-map):
``features`` (configuration -> feature row), ``models`` (one curve-model class per family
behind ``CurveModel``), ``kernels`` (numeric kernels), ``blackbox`` (the caching, prefetching
``SurrogateBlackbox`` and ``load_surrogate``), ``persistence`` (``surrogate.json`` /
``surrogate.joblib``), ``fitting`` (``add_surrogate``) and ``provider`` (``SurrogateProvider``,
registered on import).

Speed: curves are predicted in batches and cached per configuration. The first request of
a tabulated configuration predicts every row of the table at once (one array, indexed like
the table); other configurations go through an LRU cache (``cache_bytes``), and
``curves_for(configs)`` predicts all cache misses of a batch in one call. ``prefetch(configs)``
predicts every uncached configuration of a list in one call; the simulator uses it on a cache
miss with the configurations the scheduler has already drawn (``upcoming_configs``), so
sampling a continuous space costs one model call per batch of trials. The cache holds each
configuration's latent vector (knn: its nearest rows; regressors: the 32 predicted principal
components) and the curves of the seeds asked for so far; the simulator also passes the seeds
the upcoming trials will run with, so each configuration's batch computes the one seed's curve
a trial reads (back-projected with one product per seed) and a trial pays for one seed,
not for every seed. A curve is the same, bit for bit, predicted alone or in any batch, whole or
one seed at a time, so batching never changes a simulation's results.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> hp = pd.DataFrame({"x": np.linspace(0, 1, 20)})
    >>> obj = np.zeros((20, 1, 3, 2), np.float32)
    >>> obj[..., 0] = (hp["x"].to_numpy()[:, None, None] - 0.3) ** 2 + [1.0, 0.5, 0.2]
    >>> obj[..., 1] = [10.0, 20.0, 30.0]
    >>> table = TabularBlackbox(hp, obj, [1, 2, 3], ["loss", "time"], metric_elapsed_time="time")
    >>> sur = add_surrogate(table)                       # knn, k=1
    >>> float(sur.evaluate({"x": float(hp["x"][4])}, fidelity=3)["loss"]) == float(obj[4, 0, 2, 0])
    True
    >>> sur.card.model, sur.num_seeds
    ('knn', 1)
"""
from __future__ import annotations

from blackbox_repo.surrogate.blackbox import DEFAULT_CACHE_BYTES, SurrogateBlackbox, load_surrogate
from blackbox_repo.surrogate.features import Features
from blackbox_repo.surrogate.fitting import SEED_MODES, add_surrogate
from blackbox_repo.surrogate.models import AUTO_COMPONENTS, CURVE_MODELS, MODELS, LegacyCurveModel, SurrogateError
from blackbox_repo.surrogate.persistence import (SURROGATE_FORMAT_VERSION, SURROGATE_JSON, SURROGATE_MODEL,
                                                 verify_surrogate)
from blackbox_repo.surrogate.provider import SurrogateProvider

__all__ = ["SurrogateBlackbox", "SurrogateError", "add_surrogate", "load_surrogate", "MODELS",
           "SEED_MODES", "SURROGATE_JSON", "SURROGATE_MODEL", "SurrogateProvider", "verify_surrogate",
           "CURVE_MODELS", "Features", "AUTO_COMPONENTS", "DEFAULT_CACHE_BYTES", "SURROGATE_FORMAT_VERSION"]

# surrogates saved before this module was a package pickled these classes under these names
_CurveModel = LegacyCurveModel
_Features = Features
