"""Body of ``POST /auth/token`` (client credentials for scripts and service accounts).

Either JSON ``{"client_id", "client_secret", "grant_type"?}`` or the OAuth form body of RFC 6749 §4.4.2
(``grant_type=client_credentials``) with the client authenticated by HTTP Basic or by ``client_id`` and
``client_secret`` in the form (§2.3.1). Every refusal is an ``OAuthRequestError`` answered as §5.2.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal
from urllib.parse import parse_qs, unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["client_credentials"] = "client_credentials"
    client_id: str = Field(min_length=1, max_length=256)
    client_secret: str = Field(min_length=1, max_length=1024, repr=False)


class TokenResponse(BaseModel):
    access_token: str


class OAuthRequestError(Exception):
    """A token request refused before the service is asked: RFC 6749 §5.2 ``error`` and description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def token_body_from_json(data: object) -> TokenBody:
    if isinstance(data, dict) and data.get("grant_type", "client_credentials") != "client_credentials":
        raise OAuthRequestError("unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    try:
        return TokenBody.model_validate(data)
    except ValidationError as err:
        fields = sorted({".".join(str(part) for part in e["loc"]) or "body" for e in err.errors()})
        raise OAuthRequestError(
            "invalid_request",
            f"Send client_id and client_secret (problem with: {', '.join(fields)}).",
        ) from err


def read_form(form: bytes) -> dict[str, str]:
    """An OAuth form body as a dict; a parameter sent twice is refused (RFC 6749 §3.1)."""
    try:
        fields = parse_qs(form.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(form))
    except (UnicodeDecodeError, ValueError) as err:
        raise OAuthRequestError("invalid_request", "The form body could not be read.") from err
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise OAuthRequestError("invalid_request", f"Parameters sent more than once: {', '.join(repeated)}.")
    return {name: value[0] for name, value in fields.items()}


def token_body_from_form(form: bytes, authorization: str | None) -> TokenBody:
    values = read_form(form)
    grant_type = values.pop("grant_type", None)
    if grant_type is None:
        raise OAuthRequestError("invalid_request", "grant_type=client_credentials is required.")
    if grant_type != "client_credentials":
        raise OAuthRequestError("unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    values.pop("scope", None)  # the client's groups decide its role; a requested scope changes nothing here
    basic = basic_credentials(authorization)
    if basic is not None:
        if "client_id" in values or "client_secret" in values:
            raise OAuthRequestError(
                "invalid_request", "Authenticate the client one way: HTTP Basic or client_id/client_secret."
            )
        values["client_id"], values["client_secret"] = basic
    return token_body_from_json({"grant_type": grant_type, **values})


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """The client id and secret of an ``Authorization: Basic`` header (each form-encoded, §2.3.1)."""
    if authorization is None:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthRequestError("invalid_request", "Only HTTP Basic client authentication is accepted here.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as err:
        raise OAuthRequestError("invalid_request", "The Basic credentials could not be read.") from err
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise OAuthRequestError("invalid_request", "The Basic credentials need client_id:client_secret.")
    return unquote_plus(client_id), unquote_plus(client_secret)
