"""`sndskit web`: the command builds the app from its options (the server itself is not
started here: uvicorn.run is replaced by a recorder)."""

from __future__ import annotations

import uvicorn
from typer.testing import CliRunner

from sndskit.cli import app


def _start(monkeypatch, args):
    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    result = CliRunner().invoke(app, ["web", *args])
    return result, started


def test_web_listens_on_loopback_by_default(monkeypatch, synth_data):
    result, started = _start(monkeypatch, ["--data", str(synth_data), "--port", "8801"])
    assert result.exit_code == 0, result.output
    assert started["host"] == "127.0.0.1" and started["port"] == 8801
    settings = started["app"].state.settings
    assert settings.token is None and settings.data_dirs == {"data": synth_data.resolve()}
    assert "http://127.0.0.1:8801/" in result.output


def test_web_beyond_loopback_prints_a_token_url(monkeypatch):
    result, started = _start(monkeypatch, ["--host", "0.0.0.0"])
    token = started["app"].state.settings.token
    assert token and f"?token={token}" in result.output.replace("\n", "")


def test_web_refuses_a_missing_data_folder(monkeypatch, tmp_path):
    result, started = _start(monkeypatch, ["--data", str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and not started
    assert "data location not found" in str(result.exception or result.output)
