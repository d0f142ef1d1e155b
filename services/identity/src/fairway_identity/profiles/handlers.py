"""crm.identity.commands: profile changes other services ask for (a journey's UPDATE step). Applied through the
same path as a staff edit, so the change is logged, replayed on unmerge and announced as profile.updated."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fairway_chassis import NotFound, Unprocessable
from fairway_events import Dispatch, Envelope, inbox
from fairway_events.contracts.identity_commands import ProfileUpdateRequested
from fairway_identity.profiles.schemas import CustomerPatch
from fairway_identity.profiles.service import get_customer, patch_customer

log = structlog.get_logger("fairway.identity.commands")

CONSUMER = "identity.commands"
TOPICS = ["crm.identity.commands"]
# What another service may set: the staff-editable fields that are about marketing, not about who a person is.
COMMAND_ATTRIBUTES = ("homeClub", "lifecycleStage")

commands = Dispatch()


@commands.on("profile.update_requested")
async def update_requested(session: AsyncSession, env: Envelope) -> None:
    cmd = env.payload
    assert isinstance(cmd, ProfileUpdateRequested)
    # Once per requestId, whatever event carries it (a retried or re-published command is the same request).
    if not await inbox.claim(session, f"{CONSUMER}.requests",
                             [env.model_copy(update={"event_id": cmd.requestId})]):
        return
    refused = sorted(set(cmd.attributes) - set(COMMAND_ATTRIBUTES))
    if refused:
        log.warning("profile update request sets attributes other services may not set; those are ignored",
                    request_id=cmd.requestId, attributes=refused, source=cmd.sourceId)
    try:
        current = await get_customer(session, env.tenant_id, cmd.profileId)
        changes = {k: v for k, v in cmd.attributes.items() if k in COMMAND_ATTRIBUTES}
        if cmd.addTags or cmd.removeTags:
            tags = [t for t in current.tags if t not in cmd.removeTags]
            tags += [t for t in cmd.addTags if t not in tags and t not in cmd.removeTags]
            if tags != current.tags:
                changes["tags"] = tags
        if not changes:
            return
        await patch_customer(session, env.tenant_id, current.id, CustomerPatch.model_validate(changes),
                             actor=f"{cmd.sourceKind.lower()}:{cmd.sourceId}")
    except (NotFound, Unprocessable) as exc:
        # Erased, unknown or an invalid value: nothing to apply, and retrying will not change that.
        log.warning("profile update request not applied", request_id=cmd.requestId, reason=str(exc.detail))
