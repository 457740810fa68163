"""`rota serve --certfile --keyfile`: HTTPS straight from uvicorn, HSTS on every response over
it (never over plain HTTP), the session cookie Secure, no `Server` header; bad TLS files are
one line and a non-zero exit before anything is bound."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from clinic.db import Database
from clinic.tokens import create_token
from integrations.cli.main import run
from integrations.http.app import create_app
from integrations.http.hardening import HSTS
from integrations.http.server import KEY_PASSWORD_ENV, check_tls, uvicorn_options
from integrations.web.session import SESSION_COOKIE
from tests.live import serving
from tests.security.certs import Pem, private_key, self_signed, write_key


@pytest.fixture()
def pem(tmp_path: Path) -> Pem:
    return self_signed(tmp_path)


@pytest.fixture()
def app(demo_db: Database) -> Litestar:
    return create_app(demo_db)


@pytest.fixture()
def https(app: Litestar, pem: Pem) -> Iterator[httpx.Client]:
    """A client of the app served over TLS with `rota serve`'s own uvicorn options; it trusts
    the test certificate and nothing else."""
    options = uvicorn_options(check_tls(pem.cert, pem.key))
    trust = ssl.create_default_context(cafile=str(pem.cert))
    with (
        serving(app, **options) as port,
        httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trust) as client,
    ):
        yield client


def test_health_over_https_carries_hsts_and_no_server_name(https: httpx.Client) -> None:
    response = https.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["strict-transport-security"] == HSTS
    assert "server" not in response.headers  # no "uvicorn", no version


def test_errors_over_https_carry_hsts_too(https: httpx.Client) -> None:
    for path in ("/no/such/page", "/api/appointments"):
        response = https.get(path)
        assert response.status_code in (401, 404)
        assert response.headers["strict-transport-security"] == HSTS


def test_the_session_cookie_is_secure_over_https(https: httpx.Client, demo_db: Database) -> None:
    with demo_db.session() as session:
        token = create_token(session, "s001")
    response = https.post("/signin", data={"token": token, "next": "/"})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_client_that_does_not_trust_the_certificate_is_refused(app: Litestar, pem: Pem) -> None:
    options = uvicorn_options(check_tls(pem.cert, pem.key))
    with serving(app, **options) as port, pytest.raises(httpx.ConnectError):
        httpx.get(f"https://127.0.0.1:{port}/health")  # the system's CAs only


def test_plain_http_has_no_hsts(app: Litestar) -> None:
    with serving(app, **uvicorn_options(None)) as port:
        response = httpx.get(f"http://127.0.0.1:{port}/health")
    assert response.status_code == 200
    assert "strict-transport-security" not in response.headers
    assert "server" not in response.headers


def _serve(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = run(["serve", "--port", "1", *args])  # port 1: binding it would fail loudly
    return code, capsys.readouterr().err.strip().splitlines()


def test_a_missing_certificate_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _serve(["--certfile", str(tmp_path / "nope.pem")], capsys)
    assert code == 2
    assert err == [f"rota: --certfile {tmp_path / 'nope.pem'}: no such file"]


@pytest.mark.parametrize("case", ["garbage key", "another key", "key without cert", "folder"])
def test_a_bad_key_is_one_line_and_exit_2(
    case: str, pem: Pem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = pem.cert, pem.key
    if case == "garbage key":
        key.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    elif case == "another key":
        write_key(key, private_key())
    elif case == "folder":
        key = tmp_path
    args = ["--keyfile", str(key)] if case == "key without cert" else []
    if case != "key without cert":
        args += ["--certfile", str(cert), "--keyfile", str(key)]
    code, err = _serve(args, capsys)
    assert code == 2
    assert len(err) == 1 and err[0].startswith("rota: "), err
    assert "Traceback" not in err[0]
    if case == "another key":
        assert "is not the private key of --certfile" in err[0]


def test_an_encrypted_key_needs_its_password_from_the_environment(
    pem: Pem, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_key(pem.key, private_key(), password=b"correct horse")
    monkeypatch.delenv(KEY_PASSWORD_ENV, raising=False)
    code, err = _serve(["--certfile", str(pem.cert), "--keyfile", str(pem.key)], capsys)
    assert code == 2 and len(err) == 1 and KEY_PASSWORD_ENV in err[0]


def test_an_encrypted_key_with_its_password_serves_https(
    app: Litestar, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = private_key()
    pem = self_signed(tmp_path, key)
    write_key(pem.key, key, password=b"correct horse")
    monkeypatch.setenv(KEY_PASSWORD_ENV, "correct horse")
    trust = ssl.create_default_context(cafile=str(pem.cert))
    with serving(app, **uvicorn_options(check_tls(pem.cert, pem.key))) as port:
        response = httpx.get(f"https://127.0.0.1:{port}/health", verify=trust)
    assert response.headers["strict-transport-security"] == HSTS
