"""This service's additions to the chassis' error tree (rendered {"error": ClassName, "detail": ...})."""

from __future__ import annotations

from fairway_chassis import FairwayError, Unprocessable
from fairway_schemas.criteria import CriteriaError


class InvalidCriteria(Unprocessable):
    """Criteria the field catalogue refuses; each problem names the path of the part at fault."""

    def __init__(self, errors: list[CriteriaError], prefix: str = "criteria") -> None:
        FairwayError.__init__(
            self,
            [
                {"field": f"{prefix}.{e.path}" if e.path != "<root>" else prefix, "message": e.message}
                for e in errors
            ],
        )


class BadGateway(FairwayError):
    """A service this one depends on answered with something unusable."""

    status_code = 502


class GatewayTimeout(FairwayError):
    """A service this one depends on did not answer in time."""

    status_code = 504


class PayloadTooLarge(FairwayError):
    """The request body is larger than this endpoint accepts."""

    status_code = 413
