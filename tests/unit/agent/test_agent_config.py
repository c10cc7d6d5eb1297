"""Settings from flags or a YAML file: validated at once, with the file, line and key; exit 78."""

from pathlib import Path

import pytest

from agent import cli
from agent.config import DEFAULT_SPOOL, AgentConfigError, is_loopback, load

TOKEN = "pat_" + "A" * 43


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


def flags(token_path, **more):
    return {"collector": "https://patrol.example.com:8443", "name": "web01", "token_file": str(token_path)} | more


def problems(flag_values, config_file=None) -> str:
    with pytest.raises(AgentConfigError) as info:
        load(flag_values, config_file)
    text = str(info.value)
    assert TOKEN not in text
    return text


def test_flags_alone_with_defaults(token_file):
    config = load(flags(token_file))
    assert config.collector == "https://patrol.example.com:8443"
    assert config.name == "web01"
    assert config.spool == Path(DEFAULT_SPOOL)
    assert config.max_spool_bytes == 100 * 1024 * 1024
    assert config.batch_max_results == 1000
    assert config.read_token() == TOKEN


def test_a_config_file_with_every_key_and_flags_win(tmp_path, token_file):
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    path = tmp_path / "agent.yaml"
    path.write_text(
        "collector: https://patrol.example.com/\n"
        "name: db01\n"
        "token_file: token\n"  # relative to the config file
        "spool: spool\n"
        "ca_file: ca.pem\n"
        "insecure_http: false\n"
        "max_spool_bytes: 50MiB\n"
        "batch_max_results: 500\n"
        "push_interval: 30s\n"
        "plan_interval: 2m\n"
        "max_backoff: 120\n"
        "jitter: 0\n"
    )
    config = load({"name": "db02"}, str(path))
    assert config.collector == "https://patrol.example.com"
    assert config.name == "db02"
    assert config.token_file == tmp_path / "token"
    assert config.spool == tmp_path / "spool"
    assert config.ca_file == tmp_path / "ca.pem"
    assert config.max_spool_bytes == 50 * 1024 * 1024
    assert (config.batch_max_results, config.push_interval, config.plan_interval) == (500, 30.0, 120.0)
    assert (config.max_backoff, config.jitter) == (120.0, 0.0)


def test_an_unknown_key_names_the_file_the_line_and_the_likely_key(tmp_path, token_file):
    path = tmp_path / "agent.yaml"
    path.write_text(f"collector: https://c.example.com\ntoken_file: {token_file}\ncolector: x\n")
    text = problems({}, str(path))
    assert f"{path}:3: colector: unknown setting (did you mean 'collector'?)" in text


def test_every_problem_is_reported_at_once(tmp_path, token_file):
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"token_file: {token_file}\nmax_spool_bytes: lots\nbatch_max_results: 0\npush_interval: soon\n"
        "insecure_http: yes please\nname: two words\n"
    )
    text = problems({}, str(path))
    for expected in (
        "--collector: required",
        f"{path}:2: max_spool_bytes: expected a size",
        f"{path}:3: batch_max_results: expected a whole number from 1 to 10000",
        f"{path}:4: push_interval: expected seconds",
        f"{path}:5: insecure_http: expected true or false",
        f"{path}:6: name: expected the inventory host name",
    ):
        assert expected in text


def test_plain_http_to_another_machine_is_refused_with_the_reason(token_file):
    text = problems(flags(token_file, collector="http://10.0.0.5:8000"))
    assert "refusing plain http:// to 10.0.0.5" in text
    assert "unencrypted" in text and "insecure_http" in text
    config = load(flags(token_file, collector="http://10.0.0.5:8000", insecure_http=True))
    assert config.collector == "http://10.0.0.5:8000"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000",
                                 "http://127.3.4.5"])
def test_plain_http_to_this_machine_is_fine(token_file, url):
    assert load(flags(token_file, collector=url)).collector == url


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("collector.example.com")


@pytest.mark.parametrize("url,expected", [
    ("ftp://c.example.com", "expected an http:// or https:// URL"),
    ("https://user:secret@c.example.com", "credentials do not belong in the URL"),
    ("https://c.example.com/?a=1", "without query"),
])
def test_bad_collector_urls(token_file, url, expected):
    text = problems(flags(token_file, collector=url))
    assert expected in text
    assert "secret" not in text or "credentials" in text


def test_the_token_file_must_exist_and_hold_one_token(tmp_path, token_file):
    assert "cannot read" in problems(flags(token_file, token_file=str(tmp_path / "missing")))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "expected the token alone on one line" in problems(flags(token_file, token_file=str(empty)))


def test_the_cli_exits_78_on_bad_settings_and_never_takes_the_token_on_the_command_line(token_file, capsys):
    assert cli.run(["--collector", "http://192.0.2.1", "--token-file", str(token_file), "--name", "web01"]) == 78
    err = capsys.readouterr().err
    assert "configuration errors" in err and "refusing plain http://" in err
    with pytest.raises(SystemExit) as info:
        cli.run(["--collector", "https://c.example.com", "--token", TOKEN])  # no abbreviation of --token-file
    assert info.value.code == 2


def test_a_token_given_where_the_token_file_belongs_is_not_repeated(token_file):
    text = problems(flags(token_file, token_file=TOKEN))
    assert "looks like a token, not a file name" in text


def test_a_config_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "agent.yaml"
    path.write_text("- collector\n")
    assert "expected a mapping of settings" in problems({}, str(path))
    path.write_text("collector: [unclosed\n")
    assert f"{path}:2: not valid YAML" in problems({}, str(path)) or "not valid YAML" in problems({}, str(path))
