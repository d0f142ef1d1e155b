"""Local fakes of Facebook Login, the Graph API (pages, Instagram publishing) and X (OAuth 2.0 + PKCE, API v2),
speaking their real protocols, with a control API to inject faults. Started by the tests and by `make up`."""
