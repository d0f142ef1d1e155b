"""The AI marketing spec's segment examples (section 3.3) as criteria: what both the rule parser and the gateway
end to end must answer for them. Imported by the tests (the conftest puts this folder on the path)."""

SPEC_EXAMPLES = {
    "Gold members who haven't played in 30 days": [
        {"field": "membershipTier", "operator": "eq", "value": "Gold"},
        {"field": "lastBookingAt", "operator": "lt", "value": {"relative": "-30 days"}},
    ],
    "High handicappers who are engaged": [
        {"field": "handicap", "operator": "gte", "value": 18},
        {"field": "engagementScore", "operator": "gte", "value": 70},
    ],
    "Members expiring next month": [
        {
            "field": "membershipExpiry",
            "operator": "between",
            "value": [{"relative": "+0 days"}, {"relative": "+30 days"}],
        }
    ],
    "Inactive premium members": [
        {"field": "membershipTier", "operator": "in", "value": ["Gold", "Platinum"]},
        {"field": "activityCount30d", "operator": "eq", "value": 0},
    ],
    "Email subscribers who click but don't book": [
        {"field": "emailOptIn", "operator": "eq", "value": True},
        {"field": "lastEmailClickAt", "operator": "gt", "value": {"relative": "-14 days"}},
        {"field": "bookingCount30d", "operator": "eq", "value": 0},
    ],
}
