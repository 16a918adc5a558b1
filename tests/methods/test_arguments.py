"""Argument checks shared by the methods (issue 11: booleans are booleans, seeds are seeds)."""
from __future__ import annotations

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, choice
from blackbox_repo.errors import InputError
from methods import MethodError, create
from methods.arguments import SEED_MAX, check_bool, check_seed


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (np.bool_(True), True),
                                             ("false", False), ("False", False), ("NO", False), ("0", False),
                                             ("true", True), (" Yes ", True), ("1", True), (1, True), (0, False)])
def test_check_bool_reads_command_line_and_yaml_words(value, expected):
    assert check_bool("allow_duplicates", value) is expected


@pytest.mark.parametrize("value", ["", "maybe", "off", "falsee", 2, -1, 0.0, None, [True]])
def test_check_bool_rejects_other_values_instead_of_taking_them_as_true(value):
    with pytest.raises(MethodError, match=r"allow_duplicates must be a boolean: true or false \(also yes/no, "
                                          r"1/0\), got"):
        check_bool("allow_duplicates", value)


def test_allow_duplicates_false_as_a_string_means_false():
    space = ConfigurationSpace({"x": choice([1, 2])})
    rs = create("RandomSearch", space, metric="loss", allow_duplicates="False")
    assert rs.allow_duplicates is False
    assert [rs.suggest(0.0) is None for _ in range(3)] == [False, False, True]   # without replacement
    assert create("RandomSearch", space, metric="loss", allow_duplicates="yes").allow_duplicates is True


@pytest.mark.parametrize("value", [0, 7, SEED_MAX, np.int64(3)])
def test_check_seed_accepts_32_bit_non_negative_integers(value):
    assert check_seed("seed", value) == int(value)


@pytest.mark.parametrize("name, value, shown", [("--seed", -1, "--seed -1"), ("seed", 2**32, "seed=4294967296"),
                                                ("seed", 1.0, "seed=1.0"), ("seed", True, "seed=True"),
                                                ("seed", "3", "seed='3'")])
def test_check_seed_names_the_option_and_the_range(name, value, shown):
    with pytest.raises(InputError) as e:
        check_seed(name, value)
    assert str(e.value) == f"{shown} is not valid; a seed must be an integer in [0, 4294967295]"


def test_a_method_with_a_negative_seed_is_an_input_error():
    with pytest.raises(InputError, match=r"seed=-1 is not valid; a seed must be an integer in \[0, 4294967295\]"):
        create("RandomSearch", ConfigurationSpace({"x": choice([1, 2])}), metric="loss", seed=-1)
