"""The social service's own errors (the chassis renders them as {"error": ClassName, "detail": ...})."""

from __future__ import annotations

from fairway_chassis import FairwayError, Unprocessable


class MissingScopes(Unprocessable):
    """The consent did not grant what publishing needs: reported at connect time, not at the first post."""

    def __init__(self, platform: str, missing: list[str]) -> None:
        super().__init__(f"{platform.title()} did not grant the permissions Fairway needs: {', '.join(missing)}; "
                         "connect again and allow them", field="scopes")
        self.detail = [{"field": "scopes", "platform": platform, "missing": missing,
                        "message": f"{platform.title()} did not grant: {', '.join(missing)}"}]


class NeedsReconnect(FairwayError):
    """The connection's account must be reconnected before anything can be published on it."""

    status_code = 409


class ContentInvalid(Unprocessable):
    """The post does not fit a platform's rules; each entry names the platform and the field."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("invalid")
        self.detail = problems
