"""Fairway social service: OAuth connections to Facebook, Instagram and X; scheduled publishing; content calendar."""
