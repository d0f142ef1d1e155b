"""Clients of the real platforms' APIs (Facebook Login + Graph API, Instagram publishing, X OAuth 2.0 + API v2).

They speak HTTP to base URLs from settings and turn every answer into a result or one of the errors of `base`, in
plain words; they know nothing of Fairway's tables.
"""
