"""One call to the provider through the `anthropic` SDK, with errors sorted into what the gateway acts on.

The SDK's own retries are off: the gateway retries itself, so every attempt is counted by the circuit breaker
and a wait the provider asks for (retry-after) is weighed against the request's deadline.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Literal

import anthropic

PROVIDER = "anthropic"
ErrorKind = Literal["RATE_LIMITED", "SERVER_ERROR", "TIMEOUT", "CONNECTION", "AUTH", "BAD_REQUEST", "CIRCUIT"]


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    model: str
    stop_reason: str | None


class ProviderError(Exception):
    def __init__(
        self, kind: ErrorKind, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in ("RATE_LIMITED", "SERVER_ERROR", "TIMEOUT", "CONNECTION")

    @property
    def counts_against_breaker(self) -> bool:
        # A 400 is our request's fault, not the provider's health.
        return self.kind != "BAD_REQUEST"


def retry_after_seconds(headers: object) -> float | None:
    get = getattr(headers, "get", None)
    if get is None:
        return None
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())


def make_sdk(
    *, api_key: str, base_url: str | None, timeout: float, tracing: bool = False
) -> anthropic.AsyncAnthropic:
    """The SDK client as the gateway configures it (the bench's direct path uses this too, so the comparison is
    like for like): its own retries off; the aiohttp transport, which costs about half the CPU per call of the
    default httpx one (its session is created lazily, on the first call, inside the running loop); and, unless
    `tracing`, no OpenTelemetry spans of its own: the SDK builds each span's attributes even when nothing
    records them (about a tenth of a call's CPU), and the decision log already keeps every attempt's timing."""
    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=base_url,
        max_retries=0,
        timeout=timeout,
        http_client=anthropic.DefaultAioHttpClient(timeout=timeout),
        open_telemetry=None if tracing else False,
    )


class ProviderClient:
    def __init__(self, *, api_key: str, base_url: str | None, timeout: float, tracing: bool = False) -> None:
        self.timeout = timeout
        self.sdk = make_sdk(api_key=api_key, base_url=base_url, timeout=timeout, tracing=tracing)

    async def complete(
        self, *, model_id: str, system: str, user: str, max_tokens: int, timeout: float | None = None
    ) -> Completion:
        try:
            msg = await self.sdk.messages.create(
                model=model_id,
                max_tokens=max_tokens,
                system=system,
                messages=[{"role": "user", "content": user}],
                timeout=timeout or self.timeout,
            )
        except anthropic.APITimeoutError:
            raise ProviderError("TIMEOUT", "provider did not answer in time") from None
        except anthropic.APIConnectionError as exc:
            raise ProviderError("CONNECTION", f"provider unreachable: {type(exc).__name__}") from None
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            wait = retry_after_seconds(exc.response.headers)
            if status == 429:
                raise ProviderError(
                    "RATE_LIMITED", "provider rate limit", status=status, retry_after=wait
                ) from None
            if status >= 500 or status == 408:
                raise ProviderError(
                    "SERVER_ERROR", f"provider error {status}", status=status, retry_after=wait
                ) from None
            if status in (401, 403):
                raise ProviderError(
                    "AUTH", f"provider refused the credentials ({status})", status=status
                ) from None
            raise ProviderError(
                "BAD_REQUEST", f"provider rejected the request ({status})", status=status
            ) from None
        except anthropic.APIResponseValidationError:
            raise ProviderError("SERVER_ERROR", "provider answered with an unreadable response") from None
        text = "".join(getattr(block, "text", "") for block in msg.content)
        return Completion(
            text=text,
            input_tokens=msg.usage.input_tokens,
            output_tokens=msg.usage.output_tokens,
            model=msg.model,
            stop_reason=msg.stop_reason,
        )

    async def close(self) -> None:
        await self.sdk.close()
