import pytest

from checks.errors import ConfigError
from checks.host.disk import DiskParams
from checks.params import validate_params


def test_every_problem_is_reported_at_once_with_its_path():
    with pytest.raises(ConfigError) as info:
        validate_params(
            DiskParams, {"warnig": 80, "critical": "lots", "mount_timeout": -1}, path=("tasks", 0, "checks", 0, "disk")
        )
    problems = {p.path[-1]: p.message for p in info.value.problems}
    assert set(problems) == {"warnig", "critical", "mount_timeout"}
    assert "did you mean 'warning'" in problems["warnig"]
    assert "Nagios range" in problems["critical"] and "'lots'" in problems["critical"]
    assert "greater than 0" in problems["mount_timeout"]
    assert str(info.value.problems[0]).startswith("tasks[0].checks[0].disk.")


def test_unknown_parameter_without_a_close_match_lists_the_known_ones():
    with pytest.raises(ConfigError) as info:
        validate_params(DiskParams, {"zzz": 1})
    assert "expected one of:" in info.value.problems[0].message
    assert "inodes_free_warning" in info.value.problems[0].message


def test_sizes_and_ranges_are_parsed():
    params = validate_params(DiskParams, {"free_critical": "2GiB", "warning": "~:75"})
    assert int(params.free_critical) == 2 * 1024**3
    assert params.warning.text == "~:75"
    assert params.critical.text == "90"  # defaults are validated into ranges too


def test_params_must_be_a_mapping():
    with pytest.raises(ConfigError) as info:
        validate_params(DiskParams, [1, 2], path=("x",))
    assert "expected a mapping" in str(info.value)
