"""python -m fairway_ai_gateway.fake_provider --port 8099: a local Messages API for development.

Point the gateway at it with FAIRWAY_AI_ANTHROPIC_BASE_URL=http://127.0.0.1:8099 and any
FAIRWAY_AI_ANTHROPIC_API_KEY.
"""

import argparse

import uvicorn

from fairway_ai_gateway.fake_provider.app import create_fake_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake Anthropic Messages API (records requests, scriptable)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    # keep-alive longer than any client's idle pool timeout, so a reused connection is never closed under it
    uvicorn.run(
        create_fake_app(),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=120,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
