"""The Messaging simulator answers send requests of every published version, template-only ones included."""
import json
import random
from datetime import UTC, datetime

from fairway_cli.simulators import messaging_answers, rendered
from fairway_events.envelope import decode_raw
from fairway_events.registry import registry

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


class _Always(random.Random):
    """Every member opens and clicks: the answers are then all the steps of the channel."""

    def random(self) -> float:
        return 0.0


def _request(version: int, **payload: object) -> bytes:
    body = {"requestId": "r-7", "channel": "EMAIL", "recipient": {"profileId": "p-7", "email": "sipho@kloofgolf.co.za"},
            "campaignId": "c-1", **payload}
    return json.dumps({"event_id": "e-7", "event_type": "messaging.send.requested", "version": version,
                       "tenant_id": "kloof", "occurred_at": NOW.isoformat(), "aggregate_id": "r-7",
                       "source": "campaigns", "payload": body}).encode()


def test_a_v2_template_request_is_rendered_with_its_merge_data_and_answered() -> None:
    env = registry.validate(decode_raw(_request(2, templateId="monthly-newsletter",
                                                templateData={"firstName": "Sipho", "month": "June"})))
    assert rendered(env.payload) == "[monthly-newsletter] firstName=Sipho, month=June"
    answers = messaging_answers("kloof", env.payload, _Always(), NOW)
    assert [t for t, _ in answers] == ["messaging.email.sent", "messaging.email.delivered", "messaging.email.opened",
                                       "messaging.email.clicked"]
    sent = json.loads(answers[0][1])
    assert sent["payload"]["sendRequestId"] == "r-7" and sent["tenantId"] == "kloof"


def test_a_v1_request_still_reaches_the_simulator_upcast() -> None:
    env = registry.validate(decode_raw(_request(1, body="template:monthly-newsletter",
                                                templateId="monthly-newsletter")))
    assert env.version == 2 and rendered(env.payload) == "[monthly-newsletter]"
    assert len(messaging_answers("kloof", env.payload, _Always(), NOW)) == 4
