"""The ``arena`` CLI and ArenaClient end to end, over real HTTP against a live Arena server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arena.api_tokens import token_authenticate
from arena.client import ArenaClient, ArenaClientError
from arena.client.cli import main
from arena.models import Dataset
from tests.factories import api_token_key

ROWS = [
    {"instruction": "Say hi.", "input": "", "output": "hi"},
    {"instruction": "Count to 3.", "input": "", "output": "1 2 3", "history": [["Count to 2.", "1 2"]]},
    {"instruction": "Name a colour.", "input": "", "output": "blue"},
]


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    """An empty config dir, no ARENA_* variables: each test starts logged out."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in ("ARENA_URL", "ARENA_TOKEN", "ARENA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def data_file(tmp_path) -> Path:
    path = tmp_path / "greetings.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.django_db(transaction=True)
def test_login_upload_list_export_round_trip(live_server, user, config_home, data_file, tmp_path, capsys):
    code, _, err = run(capsys, "login", "--url", live_server.url, "--username", "alice", "--password", "pw-alice-123")
    assert code == 0, err
    saved = json.loads((config_home / "arena" / "config.json").read_text())
    assert set(saved) == {"url", "token"} and saved["url"] == live_server.url
    assert token_authenticate(key=saved["token"]).user == user  # a live token of alice's
    assert oct((config_home / "arena" / "config.json").stat().st_mode & 0o777) == "0o600"

    code, out, err = run(capsys, "upload", str(data_file), "--name", "Greetings", "--private", "--domain", "general")
    assert code == 0, err
    dataset = Dataset.objects.get(name="Greetings")  # private: its slug carries a random suffix
    assert out.strip() == f"{dataset.slug}\tready, 3 samples" and dataset.slug.startswith("greetings-")
    assert dataset.visibility == "private" and [d.name for d in dataset.domains.all()] == ["general"]

    code, out, _ = run(capsys, "datasets", "--json")
    assert code == 0 and [d["slug"] for d in json.loads(out)] == [dataset.slug]
    code, out, _ = run(capsys, "datasets")
    assert code == 0 and "greetings" in out and "private" in out

    out_file, info_file = tmp_path / "out" / "greetings.jsonl", tmp_path / "out" / "dataset_info.json"
    out_file.parent.mkdir()
    info_file.write_text(json.dumps({"existing": {"file_name": "x.json"}}))
    code, _, err = run(
        capsys, "export", dataset.slug, "--format", "alpaca", "-o", str(out_file), "--dataset-info", str(info_file)
    )
    assert code == 0, err
    assert "wrote 3 alpaca records" in err
    exported = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert exported[1]["history"] == [["Count to 2.", "1 2"]] and exported[1]["output"] == "1 2 3"
    info = json.loads(info_file.read_text())
    assert set(info) == {"existing", dataset.slug}
    assert info[dataset.slug]["file_name"] == "greetings.jsonl" and info[dataset.slug]["formatting"] == "alpaca"
    assert not list(out_file.parent.glob("*.part"))


@pytest.mark.django_db(transaction=True)
def test_server_errors_are_one_line_on_stderr_with_exit_1(
    live_server, user, other_user, config_home, data_file, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("ARENA_URL", live_server.url)
    code, out, err = run(capsys, "datasets", "--json")  # anonymous reads work
    assert code == 0 and json.loads(out) == []

    code, _, err = run(capsys, "upload", str(data_file), "--name", "x")
    assert code == 1
    assert err.startswith("arena: error: HTTP 40") and "log in first" in err and err.count("\n") == 1

    monkeypatch.setenv("ARENA_TOKEN", api_token_key(user))
    code, _, err = run(capsys, "upload", str(data_file), "--name", "x", "--domain", "astrology")
    assert code == 1 and "unknown domain tag(s) astrology" in err
    assert not Dataset.objects.exists()

    code, _, err = run(capsys, "upload", str(tmp_path / "missing.jsonl"), "--name", "x")
    assert code == 1 and "no such file" in err

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "no known keys"}\n')
    code, _, err = run(capsys, "upload", str(bad), "--name", "bad")
    assert code == 1 and "HTTP 400" in err and "unknown sample format" in err

    code, _, err = run(capsys, "export", "nope", "--format", "sharegpt", "-o", str(tmp_path / "o.jsonl"))
    assert code == 1 and "HTTP 404: no dataset 'nope'" in err
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.jsonl.part").exists()

    code, _, err = run(capsys, "login", "--url", live_server.url, "--username", "alice", "--password", "wrong")
    assert code == 1 and "HTTP 400" in err and "Unable to log in" in err


def test_unreachable_server_and_usage_errors(config_home, capsys, monkeypatch):
    monkeypatch.setenv("ARENA_URL", "http://127.0.0.1:9")
    code, _, err = run(capsys, "datasets")
    assert (
        code == 1
        and err == "arena: error: cannot reach Arena at http://127.0.0.1:9 (connection refused or host unknown)\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "some-slug", "--base-model", "m", "--recipe", "r", "--benchmark", "b", "--seeds", "0,x"])
    assert exit_info.value.code == 2
    assert "seeds must be comma-separated integers" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["leaderboard", "--base-model", "m", "--json", "--csv"])
    assert exit_info.value.code == 2
    monkeypatch.delenv("ARENA_URL")
    code, _, err = run(capsys, "datasets")
    assert code == 1 and "no Arena server configured" in err
    code, _, err = run(capsys, "login", "--url", "http://127.0.0.1:9", "--username", "alice")
    assert code == 1 and "no password given" in err  # pytest's stdin is not a terminal: never prompts
    with pytest.raises(ArenaClientError, match="must start with http"):
        ArenaClient("127.0.0.1:8000")


def test_console_script_runs_without_stdin(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "ARENA_URL": "http://127.0.0.1:9"}
    env.pop("ARENA_TOKEN", None)
    usage = subprocess.run(
        [sys.executable, "-m", "arena.client.cli"], stdin=subprocess.DEVNULL, capture_output=True, env=env, text=True
    )
    assert usage.returncode == 2 and "usage: arena" in usage.stderr
    refused = subprocess.run(
        [sys.executable, "-m", "arena.client.cli", "lineage", "x", "--depth", "2"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        text=True,
    )
    assert refused.returncode == 1 and refused.stderr.startswith("arena: error: cannot reach Arena")
    assert refused.stdout == ""


@pytest.mark.django_db(transaction=True)
def test_client_library_reads_samples_and_follows_pagination(live_server, user, data_file, tmp_path, capsys):
    token = api_token_key(user)
    with ArenaClient(live_server.url, token) as client:
        for n in range(3):
            copy = tmp_path / f"copy{n}.jsonl"
            copy.write_text(data_file.read_text() + json.dumps({"instruction": f"n{n}", "output": "x"}) + "\n")
            client.upload(str(copy), name=f"copy {n}", progress=n == 0)
            if n == 0:  # the bar follows the bytes httpx reads from the file, up to the whole file
                bar = capsys.readouterr().err
                assert "upload: 100%" in bar and f"{copy.stat().st_size}/{copy.stat().st_size}" in bar.replace("B", "")
        assert [d["slug"] for d in client.datasets(page_size=2)] == ["copy-2", "copy-1", "copy-0"]
        page = client.samples("copy-1", offset=2, limit=5)
        assert page["count"] == 4 and [s["messages"][-1]["content"] for s in page["results"]] == ["blue", "x"]
        assert client.wait_dataset("copy-0", progress=False)["status"] == "ready"
        with pytest.raises(ArenaClientError, match="HTTP 400: unknown export format 'csv'"):
            client.dataset_info("copy-0", export_format="csv")
