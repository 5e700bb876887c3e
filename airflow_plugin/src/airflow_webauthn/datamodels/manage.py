"""Bodies of the step-up, self-service and admin API the passkeys and administration pages call.

Validated here with the service's own bounds, so obviously bad input is refused before a network call
and no unexpected field is ever forwarded (``extra="forbid"``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from airflow_webauthn.datamodels import PASSKEY_LABEL_MAX

_Group = Annotated[str, Field(min_length=1, max_length=128)]
_Groups = Annotated[list[_Group], Field(max_length=64)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def forwarded(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class EmptyBody(_Body):
    """Actions that need no input still take a JSON object (see ``guards.same_origin_json``)."""


class StepUpVerifyBody(_Body):
    response: dict[str, Any]


class StepUpResult(BaseModel):
    confirmed: bool
    expiresIn: int  # noqa: N815 (wire name)


class RenamePasskeyBody(_Body):
    label: str = Field(min_length=1, max_length=PASSKEY_LABEL_MAX)


class AddPasskeyVerifyBody(_Body):
    response: dict[str, Any]
    label: str | None = Field(default=None, min_length=1, max_length=PASSKEY_LABEL_MAX)


class CreateInviteBody(_Body):
    username: str = Field(min_length=1, max_length=128)
    displayName: str | None = Field(default=None, max_length=256)  # noqa: N815 (wire name)
    groups: _Groups | None = None
    ttlSeconds: int | None = Field(default=None, ge=60, le=30 * 24 * 3600)  # noqa: N815 (wire name)


class CreateServiceAccountBody(_Body):
    name: str = Field(min_length=1, max_length=128)
    groups: _Groups | None = None
    # An agent acts for people only under delegations they approve (see the README's "Connect an agent").
    agent: bool | None = None


class SetGroupsBody(_Body):
    """Replaces a person's groups (an empty list removes them all)."""

    groups: _Groups


_Days = Annotated[int, Field(ge=1, le=365)]


class ApproveDeviceRequestBody(_Body):
    """An agent's request: for how many days (the service refuses more than DELEGATION_MAX_DAYS)."""

    days: _Days | None = None


class GrantDelegationBody(_Body):
    """The Passkeys page's grant: an agent, its ``dag:`` scope (space-separated items) and the days."""

    agent: str = Field(min_length=1, max_length=128)
    scope: str = Field(min_length=1, max_length=2000)
    days: _Days | None = None
