"""Every error class of blackbox_repo belongs to one kind of the error model (issue 11, req. 2)."""
from __future__ import annotations

import pytest

from blackbox_repo.blackbox import BlackboxError
from blackbox_repo.configspace import ConfigurationError
from blackbox_repo.download import ChecksumError, DownloadError, OfflineError
from blackbox_repo.errors import InputError, IntegrityError, StorageError, exit_code
from blackbox_repo.generate import GenerationError
from blackbox_repo.importing import TableImportError
from blackbox_repo.mirror import MirrorError
from blackbox_repo.recipes.base import RecipeError
from blackbox_repo.repository import UnknownBlackboxError
from blackbox_repo.storage import CorruptBlackboxError
from blackbox_repo.surrogate import SurrogateError


@pytest.mark.parametrize("cls, kind, code", [
    (BlackboxError, InputError, 2), (ConfigurationError, InputError, 2), (TableImportError, InputError, 2),
    (GenerationError, InputError, 2), (UnknownBlackboxError, InputError, 2), (SurrogateError, InputError, 2),
    (RecipeError, InputError, 2),
    (DownloadError, StorageError, 4), (OfflineError, StorageError, 4), (MirrorError, StorageError, 4),
    (ChecksumError, IntegrityError, 3),
])
def test_error_classes_belong_to_one_kind_with_its_exit_code(cls, kind, code):
    e = cls("x")
    assert isinstance(e, kind)
    assert exit_code(e) == code


def test_corrupt_blackbox_error_is_an_integrity_error_not_an_input_error():
    e = CorruptBlackboxError("/x/objectives.parquet", "bad", expected="a", actual="b")
    assert isinstance(e, IntegrityError) and not isinstance(e, InputError)
    assert exit_code(e) == 3 and e.path.name == "objectives.parquet"


def test_input_errors_stay_value_errors_for_existing_callers():
    assert issubclass(BlackboxError, ValueError) and issubclass(ConfigurationError, ValueError)
