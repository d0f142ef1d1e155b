"""Names of the service's durable jobs, so a concept can defer another's job without importing it."""

FANOUT = "campaigns.fanout"  # hand the next batches of a SENDING campaign's audience to dispatch
DECIDE_AB_TEST = "campaigns.decide_ab_test"  # the end of an A/B test: pick the winner, send it to the rest
EXPIRE_APPROVALS = "campaigns.expire_approvals"
