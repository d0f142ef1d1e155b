"""The catalogue's own upcasters, one test each: an old payload as it was published becomes the latest version."""
import json

import pytest

from fairway_events.contracts.messaging_out import SendRequested, upcast_send_requested_v1_v2
from fairway_events.envelope import decode_raw
from fairway_events.registry import InvalidEvent, registry

V1_WRITTEN = {"requestId": "r-1", "channel": "EMAIL", "recipient": {"profileId": "p-1", "email": "ann@kloofgolf.co.za"},
              "subject": "June medal", "body": "Entries are open.", "campaignId": "c-1", "variant": "A"}
V1_TEMPLATE = {"requestId": "r-2", "channel": "SMS", "recipient": {"profileId": "p-2", "phoneNumber": "+27821234567"},
               "body": "template:tee-reminder", "templateId": "tee-reminder", "journeyId": "j-1"}


def _wire(version: int, payload: dict) -> bytes:
    return json.dumps({"event_id": "e-1", "event_type": "messaging.send.requested", "version": version,
                       "tenant_id": "kloof", "occurred_at": "2026-06-01T08:00:00+00:00", "aggregate_id": "r-1",
                       "source": "campaigns", "payload": payload}).encode()


def test_send_requested_v1_with_a_written_body_keeps_it_and_gets_no_template_data() -> None:
    out = upcast_send_requested_v1_v2(dict(V1_WRITTEN))
    assert out == {**V1_WRITTEN, "templateData": {}}


def test_send_requested_v1_template_stand_in_body_becomes_the_template_alone() -> None:
    out = upcast_send_requested_v1_v2(dict(V1_TEMPLATE))
    assert out["body"] is None and out["templateId"] == "tee-reminder" and out["templateData"] == {}


def test_send_requested_v1_body_that_only_looks_like_a_template_is_kept() -> None:
    # Only the exact stand-in for this message's own template is dropped: a written text stays as written.
    payload = {**V1_TEMPLATE, "body": "template:another-one"}
    assert upcast_send_requested_v1_v2(dict(payload))["body"] == "template:another-one"


def test_send_requested_v1_on_the_wire_validates_as_v2() -> None:
    env = registry.validate(decode_raw(_wire(1, V1_TEMPLATE)))
    assert env.version == 2
    assert env.payload == SendRequested(requestId="r-2", channel="SMS", recipient=V1_TEMPLATE["recipient"],
                                        templateId="tee-reminder", journeyId="j-1")


def test_send_requested_v2_needs_a_body_or_a_template() -> None:
    payload = {"requestId": "r-3", "channel": "EMAIL", "recipient": {"profileId": "p-3"}, "templateData": {"a": 1}}
    with pytest.raises(InvalidEvent, match="body or a templateId"):
        registry.validate(decode_raw(_wire(2, payload)))


def test_send_requested_v2_carries_the_recipients_merge_data() -> None:
    payload = {"requestId": "r-4", "channel": "EMAIL", "recipient": {"profileId": "p-4"}, "templateId": "welcome",
               "templateData": {"firstName": "Thandi", "teeTime": "07:40"}}
    env = registry.validate(decode_raw(_wire(2, payload)))
    assert env.payload.templateData == {"firstName": "Thandi", "teeTime": "07:40"} and env.payload.body is None
