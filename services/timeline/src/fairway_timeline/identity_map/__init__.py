"""What the timeline knows about people: profiles and their keys, learnt only from crm.identity."""
