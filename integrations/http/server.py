"""How `rota serve` runs uvicorn: HTTPS when given a certificate, no `Server` header naming
the software, and the certificate and key checked before the port is bound."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinic.errors import InvalidInput
from integrations.log_policy import log_format

KEY_PASSWORD_ENV = "ROTA_TLS_KEY_PASSWORD"  # nosec B105  # the variable's name, not a password


@dataclass(frozen=True)
class Tls:
    certfile: Path
    keyfile: Path | None = None
    """None: the key is in the certificate's PEM file."""


def check_tls(certfile: Path | None, keyfile: Path | None) -> Tls | None:
    """The TLS files to serve with, loaded once here so that a wrong path, an unreadable or
    encrypted key, or a key that is not the certificate's is one clear message, not a
    traceback from inside the server after it started. None: plain HTTP."""
    if certfile is None:
        if keyfile is not None:
            raise InvalidInput("--keyfile needs --certfile (the server's certificate, PEM)")
        return None
    for flag, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if path is not None and not path.is_file():
            raise InvalidInput(f"{flag} {path}: no such file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile, password=_key_password)
    except PermissionError as exc:
        raise InvalidInput(f"cannot read {exc.filename}: permission denied") from exc
    except (ssl.SSLError, OSError) as exc:
        raise InvalidInput(_why(certfile, keyfile or certfile, exc)) from exc
    return Tls(certfile, keyfile)


def _why(certfile: Path, keyfile: Path, exc: Exception) -> str:
    if getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
        return f"--keyfile {keyfile} is not the private key of --certfile {certfile}"
    if b"ENCRYPTED" in keyfile.read_bytes():
        return (
            f"--keyfile {keyfile} is encrypted: set {KEY_PASSWORD_ENV} to its password "
            "(it is missing or wrong)"
        )
    return f"--certfile {certfile} and --keyfile {keyfile} are not a PEM certificate and its key"


def _key_password() -> str:
    # A callback, so OpenSSL never prompts on the terminal for an encrypted key.
    return os.environ.get(KEY_PASSWORD_ENV, "")


def uvicorn_options(tls: Tls | None) -> dict[str, Any]:
    """uvicorn's settings for every `rota serve` (tests use them with the same meaning)."""
    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,  # request lines name patients (/patients/p0050)
        "server_header": False,  # no software name or version to look vulnerabilities up by
        "date_header": True,
    }
    if log_format() == "json":
        options["log_config"] = None  # uvicorn's own lines through the app's JSON logging too
    if tls is not None:
        options["ssl_certfile"] = str(tls.certfile)
        if tls.keyfile is not None:
            options["ssl_keyfile"] = str(tls.keyfile)
        if os.environ.get(KEY_PASSWORD_ENV):
            options["ssl_keyfile_password"] = os.environ[KEY_PASSWORD_ENV]
    return options
