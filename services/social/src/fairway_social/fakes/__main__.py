"""python -m fairway_social.fakes --port 8096: fake Facebook, Instagram and X for development (`make up` starts it).

Point the social service at it with FAIRWAY_SOCIAL_FACEBOOK_AUTH_URL, ..._FACEBOOK_GRAPH_URL, ..._X_AUTH_URL and
..._X_API_URL (all http://127.0.0.1:8096), client id `fairway-local` and secret `fairway-local-secret`.
"""

import argparse
from pathlib import Path

import uvicorn

from fairway_social.fakes.app import create_fake_app
from fairway_social.fakes.state import State


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake Facebook Login/Graph API, Instagram publishing and X API v2")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8096)
    parser.add_argument("--state-file", type=Path, help="keep tokens and posts here between runs")
    args = parser.parse_args()
    state = State()
    if args.state_file:
        state.load(args.state_file)
    uvicorn.run(create_fake_app(state), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
