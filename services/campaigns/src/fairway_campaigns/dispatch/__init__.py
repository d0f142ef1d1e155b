"""Dispatch: the only way to Messaging. Every message of a campaign, journey, promotion or intervention passes the
same policy (suppression, consent, control group, frequency caps, quiet hours, send-time optimisation, lateness),
is recorded with its outcome in the ledger, and only then becomes a `messaging.send.requested`."""
