"""snmp_environment's part of the vendor profiles, and ENTITY-SENSOR-MIB scaling."""

from __future__ import annotations

import pytest

from checks.errors import ConfigError
from checks.snmp import vendor
from checks.snmp.environment import scaled


def test_shipped_profiles_describe_environments():
    profiles = vendor.load_profiles()
    cisco = profiles["cisco"].environment
    assert cisco is not None and cisco.entity_sensors
    assert [t.kind for t in cisco.tables] == ["temperature", "fan", "supply"]
    temperature = cisco.tables[0]
    assert (temperature.name, temperature.value, temperature.critical, temperature.state) == (
        "1.3.6.1.4.1.9.9.13.1.3.1.2", "1.3.6.1.4.1.9.9.13.1.3.1.3", "1.3.6.1.4.1.9.9.13.1.3.1.4",
        "1.3.6.1.4.1.9.9.13.1.3.1.6")  # fmt: skip
    assert temperature.states[5] == "absent" and temperature.states[6] == "critical"
    huawei = profiles["huawei"].environment
    assert huawei.tables[0].value == "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.11"
    assert huawei.tables[0].critical == "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.12"
    assert profiles["host-resources"].environment.entity_sensors and not profiles["host-resources"].environment.tables
    assert profiles["h3c"].environment is None  # the fallback's ENTITY-SENSOR-MIB is used


def test_bad_environment_tables_are_reported_with_the_file(tmp_path):
    (tmp_path / "acme.yaml").write_text(
        "name: acme\nsys_object_id: ['1.3.6.1.4.1.99999.']\nenvironment:\n  tables:\n"
        "    - {kind: temperature, label: temp}\n    - {kind: humidity, label: h, value: 1.3.6.1.4.1.99999.1}\n"
        "    - {kind: fan, label: fan, state: fanState, states: {1: fine}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        vendor.load_profiles([str(tmp_path)])
    text = str(caught.value)
    assert "acme.yaml" in text and "needs a value or a state column" in text
    assert "environment.tables[1].kind" in text and "'fanState' is not a numeric OID" in text
    assert "environment.tables[2].states[1]" in text


@pytest.mark.parametrize(
    ("value", "scale", "precision", "expected"),
    [
        (41, 9, 0, 41),  # units
        (523, 9, 1, 52.3),  # one decimal
        (12050, 8, 0, 12.05),  # milli
        (185000, 8, 2, 1.85),  # milli, two decimals
        (2, 10, 0, 2000),  # kilo
        (3, 14, 0, 3e18),  # exa is 14 in RFC 3433 (before peta, 15)
        (3, 15, 0, 3e15),
        (-5, 9, 0, -5),
        (7, None, None, 7),  # a device that leaves out scale and precision
    ],
)
def test_entity_sensor_scaling(value, scale, precision, expected):
    assert scaled(value, scale, precision) == pytest.approx(expected)
