"""The web server holds against a network attacker (issue 13, Security)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from meeting_qa.config import Settings
from meeting_qa.qa import Engine
from tests.conftest import free_port

OPENSSL_SELF_SIGNED = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1".split()
SERVE_PUBLIC = "serve --host 0.0.0.0 --auth amy:s3cret".split()


def _launch(engine: Engine, settings: Settings, **launch: Any) -> tuple[Any, str]:
    from meeting_qa.web.access import check_bind
    from meeting_qa.web.app import build_app, launch_options

    app = build_app(engine, settings)
    app.queue()
    port = free_port()
    credentials = check_bind("127.0.0.1", settings.auth, insecure=False)
    options = launch_options(settings, host="127.0.0.1", port=port, credentials=credentials, **launch)
    app.launch(**options, prevent_thread_lock=True)
    scheme = "https" if launch.get("tls") else "http"
    return app, f"{scheme}://127.0.0.1:{port}"


@pytest.fixture
def served(sample_engine: Engine, settings: Settings) -> Iterator[str]:
    app, base = _launch(sample_engine, settings.with_(auth="amy:s3cret"))
    try:
        yield base
    finally:
        app.close()


def test_gradio_run_history_routes_are_off(served: str) -> None:
    for route in ("/gradio_api/run-history/buckets", "/gradio_api/run-history/records", "/gradio_api/runs"):
        assert httpx.get(f"{served}{route}").status_code == 404, route
    assert httpx.post(f"{served}/gradio_api/run-history/connect", json={"bucket_id": "x/y"}).status_code == 404


def test_after_a_few_wrong_passwords_even_the_right_one_is_refused_for_a_while(served: str) -> None:
    with httpx.Client(timeout=30) as session:
        wrong = [session.post(f"{served}/login", data={"username": "amy", "password": f"guess{i}"}) for i in range(6)]
        assert {r.status_code for r in wrong} == {400}
        right = session.post(f"{served}/login", data={"username": "amy", "password": "s3cret"})
        assert right.status_code == 400


def test_the_login_check_throttles_by_counting_failures_in_a_window() -> None:
    from meeting_qa.web.access import login_checker

    now = [0.0]
    check = login_checker(("amy", "s3cret"), max_failures=3, window_s=60, delay_s=0, clock=lambda: now[0])

    def attempt(user: str, password: str) -> bool:
        return asyncio.run(check(user, password))

    assert attempt("amy", "s3cret")
    assert not any(attempt("amy", f"x{i}") for i in range(200))  # 200 guesses: only 3 were ever checked
    assert not attempt("amy", "s3cret")  # locked for the window
    now[0] = 61.0
    assert attempt("amy", "s3cret")
    assert not attempt("bob", "s3cret")


def test_a_network_address_needs_tls_as_well_as_a_login() -> None:
    from meeting_qa.errors import ConfigError
    from meeting_qa.web.access import check_bind

    with pytest.raises(ConfigError, match="--ssl-keyfile"):
        check_bind("0.0.0.0", "amy:s3cret", insecure=False)
    assert check_bind("0.0.0.0", "amy:s3cret", insecure=False, tls=True) == ("amy", "s3cret")
    assert check_bind("0.0.0.0", "amy:s3cret", insecure=True) == ("amy", "s3cret")  # a TLS proxy in front


def test_with_a_key_and_certificate_the_chat_is_served_over_https(
    sample_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(
        [*OPENSSL_SELF_SIGNED, "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
        check=False,
    )
    if made.returncode:
        pytest.skip("openssl is not available to make a test certificate")
    app, base = _launch(sample_engine, settings.with_(auth="amy:s3cret"), tls=(key, cert))
    try:
        assert base.startswith("https://")
        assert httpx.get(f"{base}/config", verify=False).status_code == 401  # TLS works, login still required
        with pytest.raises(httpx.HTTPError):
            httpx.get(base.replace("https://", "http://") + "/config")
    finally:
        app.close()


def test_the_cli_refuses_a_missing_certificate_file(tmp_path: Path) -> None:
    from meeting_qa import cli

    code = cli.main(
        [*SERVE_PUBLIC, "--ssl-keyfile", str(tmp_path / "k.pem"), "--ssl-certfile", str(tmp_path / "c.pem")]
    )
    assert code == 2


def test_uploaded_files_are_removed_once_ingested(fake_engine: Engine, tmp_path: Path) -> None:
    from meeting_qa.web.chat import ingest_uploads

    folder = tmp_path / "gradio" / "3f9a"
    folder.mkdir(parents=True)
    good = folder / "minutes.txt"
    good.write_text("The board approved the river plan.\n", encoding="utf-8")
    other = tmp_path / "gradio" / "77c1"
    other.mkdir()
    refused = other / "slides.pdf"
    refused.write_bytes(b"%PDF-1.4")
    report = ingest_uploads(fake_engine, [str(good), str(refused)], max_mb=1)
    assert [f.status for f in report.files] == ["failed", "added"]
    assert not good.exists() and not refused.exists()
    assert not folder.exists() and not other.exists()
    assert [m.meeting_id for m in fake_engine.list_meetings()] == ["minutes"]
