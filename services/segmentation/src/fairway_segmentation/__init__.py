"""Fairway segmentation service: Dynamic and static segments over cross-service data; natural-language segment builder."""
