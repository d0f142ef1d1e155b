"""crm.ai: the AI gateway's governance events (cost, throttling, breaker, fallbacks). Keyed by tenant.

The AI gateway owns this module; add its event models here.
"""
from __future__ import annotations
