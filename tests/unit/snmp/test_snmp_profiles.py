"""Vendor profiles: the shipped YAML files, choosing by sysObjectID, a site's own, and bad files."""

from __future__ import annotations

import pytest

from checks.errors import ConfigError
from checks.snmp import oids, vendor
from checks.snmp.device import cpu_figure, memory_figure
from checks.snmp.oids import Varbind


def test_shipped_profiles_load_and_cover_the_required_vendors():
    profiles = vendor.load_profiles()
    assert {"host-resources", "cisco", "huawei", "h3c"} <= set(profiles)
    assert vendor.choose(profiles, "1.3.6.1.4.1.9.1.2066").name == "cisco"
    assert vendor.choose(profiles, "1.3.6.1.4.1.2011.2.23.96").name == "huawei"
    assert vendor.choose(profiles, "1.3.6.1.4.1.25506.1.1038").name == "h3c"
    assert vendor.choose(profiles, "1.3.6.1.4.1.8072.3.2.10").name == "host-resources"
    assert vendor.choose(profiles, None).name == "host-resources"
    assert vendor.choose(profiles, "1.3.6.1.4.1.99").name == "host-resources"  # 9 is not a prefix of 99


def test_site_profiles_add_and_override(tmp_path, monkeypatch):
    (tmp_path / "juniper.yaml").write_text(
        "name: juniper\nsys_object_id: ['1.3.6.1.4.1.2636.']\n"
        "cpu: {oid: 1.3.6.1.4.1.2636.3.1.13.1.8, aggregate: max, skip_zero: true}\n"
        "memory: {percent: 1.3.6.1.4.1.2636.3.1.13.1.11, skip_zero: true}\n"
    )
    (tmp_path / "my-cisco.yaml").write_text(
        "name: cisco-nexus\nsys_object_id: ['1.3.6.1.4.1.9.12.3.1.3.']\ncpu: {oid: 1.3.6.1.4.1.9.9.305.1.1.1.0}\n"
    )
    profiles = vendor.load_profiles([str(tmp_path)])
    assert vendor.choose(profiles, "1.3.6.1.4.1.2636.1.1.1.2.29").name == "juniper"
    assert vendor.choose(profiles, "1.3.6.1.4.1.9.12.3.1.3.1812").name == "cisco-nexus"  # longest prefix wins
    assert vendor.choose(profiles, "1.3.6.1.4.1.9.1.1").name == "cisco"
    monkeypatch.setenv(vendor.ENV_DIRS, str(tmp_path))
    assert "juniper" in vendor.load_profiles()
    with pytest.raises(ConfigError, match="unknown SNMP profile 'arista'"):
        vendor.choose(profiles, None, "arista")


def test_bad_profiles_name_the_file_and_field(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: bad\ncpu: {oid: cpmCPUTotal5minRev}\nmemory: {used: 1.3.6.1.4.1.9.1}\n")
    (tmp_path / "typo.yaml").write_text("name: typo\nsys_objectid: ['1.3.6.1.4.1.9.']\n")
    with pytest.raises(ConfigError) as exc:
        vendor.load_profiles([str(tmp_path)])
    text = str(exc.value)
    assert "bad.yaml: cpu.oid" in text and "not a numeric OID" in text
    assert "memory.used needs exactly one of memory.free or memory.total" in text
    assert "typo.yaml: sys_objectid" in text and "did you mean 'sys_object_id'" in text
    with pytest.raises(ConfigError, match="does not exist"):
        vendor.load_profiles([str(tmp_path / "missing")])


def column(oid: str, values: dict) -> tuple[oids.OID, dict]:
    root = oids.parse(oid)
    return root, {(i,): Varbind(root + (i,), v, "Gauge32") for i, v in values.items()}


def test_cpu_and_memory_figures_from_each_form():
    profiles = vendor.load_profiles()
    huawei, cisco, hr = profiles["huawei"], profiles["cisco"], profiles["host-resources"]
    tables = dict([
        column(huawei.cpu.oid, {1: 0, 2: 30, 3: 50}), column(huawei.memory.percent, {1: 0, 2: 70, 3: 40}),
        column(cisco.memory.used, {1: 300, 2: 100}), column(cisco.memory.free, {1: 500, 2: 100}),
        column(hr.cpu.oid, {1: 10, 2: 20, 3: 60}),
        column(oids.HR_STORAGE_TYPE, {1: oids.HR_STORAGE_RAM, 3: "1.3.6.1.2.1.25.2.1.3"}),
        column(oids.HR_STORAGE_UNITS, {1: 1024, 3: 1024}), column(oids.HR_STORAGE_SIZE, {1: 1000, 3: 5}),
        column(oids.HR_STORAGE_USED, {1: 250, 3: 5}),
    ])  # fmt: skip
    assert cpu_figure(huawei.cpu, tables) == 50  # the busiest board
    assert memory_figure(huawei.memory, tables) == (70, None)
    assert memory_figure(cisco.memory, tables) == (40.0, 1000)  # 400 used of 1000 bytes over both pools
    assert cpu_figure(hr.cpu, tables) == 30  # the average of the processors
    assert memory_figure(hr.memory, tables) == (25.0, 1024 * 1000)
    assert cpu_figure(cisco.cpu, tables) is None  # nothing walked there
