"""The middleware part of the inventory vocabulary is validated like the rest of it."""

from collector.config.variables import check_vars


def problems(variables):
    found = []
    check_vars(variables, ("hosts", "app01"), found)
    return {str(p.path[-1]): p.message for p in found}


def test_good_middleware_variables_pass():
    assert problems({"connection": "http", "tomcat_url": "https://app01:8443", "tomcat_user": "mon",
                     "tomcat_password": {"env": "TOMCAT_PW"}, "tomcat_ca_file": "/etc/ca.pem", "jolokia_timeout": 5,
                     "weblogic_url": "http://wls:7001"}) == {}  # fmt: skip


def test_bad_middleware_variables_are_named_with_what_was_expected():
    found = problems({"tomcat_url": "app01:8080", "jolokia_timeout": 0, "weblogic_password": "inline!",
                      "weblogic_user": ""})  # fmt: skip
    assert found["tomcat_url"].startswith("expected an http:// or https:// URL")
    assert found["jolokia_timeout"].startswith("expected a number of seconds")
    assert "may not be written inline" in found["weblogic_password"] and "inline!" not in found["weblogic_password"]
    assert found["weblogic_user"].startswith("expected a non-empty string")
