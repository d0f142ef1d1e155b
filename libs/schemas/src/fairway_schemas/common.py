"""Tenant ids, identity hints and money: the vocabulary every service shares."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
TenantId = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN)]


class IdentityHints(BaseModel):
    """The keys an upstream system knows a person by (platform spec, upstream contract v1).

    At least one key must be present: an event nobody can be resolved from is a poison event.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    authUserId: str | None = None
    email: str | None = None
    phoneNumber: str | None = None
    sclMemberId: str | None = None
    teetimePlayerId: str | None = None
    messagingContactId: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _stringify_ids(cls, data: object) -> object:
        # SCL sends member ids as numbers; keys are compared as strings everywhere.
        if isinstance(data, dict):
            data = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _at_least_one(self) -> IdentityHints:
        if not any(v not in (None, "") for v in self.model_dump().values()):
            raise ValueError("identity must carry at least one key")
        return self


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Decimal = Field(ge=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "ZAR"
