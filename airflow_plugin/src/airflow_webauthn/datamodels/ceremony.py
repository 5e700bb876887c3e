"""Bodies of the WebAuthn ceremony proxy routes (validated here, forwarded to the auth service)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from airflow_webauthn.datamodels import PASSKEY_LABEL_MAX

# Bounds keep a hostile browser from making Airflow forward arbitrarily large bodies.
_NAME = Field(default=None, min_length=1, max_length=256)


class CeremonyBody(BaseModel):
    """A ceremony step's body from the browser; ``forwarded()`` is what goes on to the service."""

    model_config = ConfigDict(extra="forbid")

    def forwarded(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class RegistrationOptionsBody(CeremonyBody):
    inviteToken: str | None = Field(default=None, min_length=1, max_length=512)  # noqa: N815 (wire name)
    username: str | None = _NAME
    displayName: str | None = _NAME  # noqa: N815 (wire name)


class RegistrationVerifyBody(CeremonyBody):
    response: dict[str, Any]
    label: str | None = Field(default=None, max_length=PASSKEY_LABEL_MAX)


class AuthenticationOptionsBody(CeremonyBody):
    username: str | None = _NAME


class AuthenticationVerifyBody(CeremonyBody):
    response: dict[str, Any]
    # Where to go after login; checked by safe_next_url, never forwarded to the service.
    next: str | None = Field(default=None, max_length=2048)

    def forwarded(self) -> dict[str, Any]:
        return {"response": self.response}
