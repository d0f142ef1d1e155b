"""Staff notes on a profile: typed, pinned first, private ones visible to their author only."""
