"""The gateway's operations served over Kafka request/reply on crm.ai.requests (fairway_events.rpc).

The payload is the operation's request model; the reply its result model. A bad payload is refused typed
(`RequestRejected`, detail naming each field), never answered with a guess.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from fairway_ai_gateway.gateway.pipeline import Gateway
from fairway_ai_gateway.operations import OPERATIONS
from fairway_chassis import field_errors
from fairway_events import TopicNames
from fairway_events.rpc import Operation as RpcOperation
from fairway_events.rpc import RequestRejected, RpcServer
from fairway_schemas.ai import AI_REQUEST_TOPIC
from fairway_schemas.common import TENANT_ID_PATTERN


def _handler(gateway: Gateway, name: str) -> RpcOperation:
    async def handle(tenant_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not re.fullmatch(TENANT_ID_PATTERN, tenant_id or ""):
            raise RequestRejected(
                "invalid tenant id", detail=[{"field": "tenant_id", "message": "not a tenant id"}]
            )
        try:
            return await gateway.run(tenant_id, name, payload, origin="rpc")
        except ValidationError as exc:
            raise RequestRejected(f"invalid {name} request", detail=field_errors(exc)) from None

    return handle


def build_rpc_server(gateway: Gateway) -> RpcServer:
    server = RpcServer("ai-gateway", AI_REQUEST_TOPIC, TopicNames())  # the chassis binds the real topic names
    for name in OPERATIONS:
        server.operation(name)(_handler(gateway, name))
    return server
