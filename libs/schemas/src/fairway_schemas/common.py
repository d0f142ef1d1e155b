"""Tenant ids, identity hints and money: the vocabulary every service shares."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fairway_schemas.tenant import TENANT_ID_PATTERN

TenantId = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN)]


class IdentityHints(BaseModel):
    """The keys an upstream system knows a person by (platform spec, upstream contract v1).

    At least one key must be present: an event nobody can be resolved from is a poison event.
    """

    # SCL sends member ids as numbers; keys are compared as strings everywhere.
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)

    authUserId: str | None = None
    email: str | None = None
    phoneNumber: str | None = None
    sclMemberId: str | None = None
    teetimePlayerId: str | None = None
    messagingContactId: str | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> IdentityHints:
        if not (self.authUserId or self.email or self.phoneNumber or self.sclMemberId or self.teetimePlayerId
                or self.messagingContactId):
            raise ValueError("identity must carry at least one key")
        return self


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Decimal = Field(ge=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "ZAR"
