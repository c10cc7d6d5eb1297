"""docs/metrics.md names every family Patrol publishes, as the code names it."""

from pathlib import Path

from checks.registry import default_registry
from collector.metrics import family_name
from collector.metrics.names import OWN_FAMILIES

DOC = (Path(__file__).resolve().parents[3] / "docs" / "metrics.md").read_text()


def test_every_own_family_is_documented():
    for name, kind in OWN_FAMILIES.items():
        published = name + "_total" if kind == "counter" else name
        assert f"`{published}`" in DOC, published


def test_every_figure_of_the_built_in_checks_is_documented(host_data, make_ctx, required_params):
    for name in default_registry().names():
        check = default_registry().get(name)
        params = {"required": ["sshd"]} if name == "processes" else required_params.get(name, {})
        for result in check.execute(make_ctx(host_data), check.validate(params)):
            for metric in result.metrics:
                published = family_name(name, metric.name, metric.unit)
                assert f"`{published}`" in DOC, f"{name}.{metric.name} -> {published}"
