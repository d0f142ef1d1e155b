# syntax=docker/dockerfile:1
# One image for every Fairway process: the eight services, the CLI (migrations, topics, simulators) and the fakes.
# The command chooses what runs, e.g. `python -m fairway_identity`, `python -m fairway_identity migrate`,
# `fairway topics create`, `fairway simulate --tenant demo`.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.9.5 AS uv

FROM ${PYTHON_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Third-party dependencies first, from the lock file alone, so code changes reuse this layer.
# Every workspace member's pyproject.toml, wherever it lives, without listing them here.
RUN --mount=type=bind,source=.,target=/src \
    find /src -name pyproject.toml -not -path "*/.venv/*" -printf "%P\n" \
      | xargs -I{} install -D -m 0644 /src/{} /app/{} \
    && install -m 0644 /src/uv.lock /app/uv.lock
RUN uv sync --frozen --no-dev --all-packages --no-install-workspace
# Then Fairway itself. Workspace packages stay editable: each service finds its Alembic migrations beside its code.
COPY libs libs
COPY tools tools
COPY services services
RUN uv sync --frozen --no-dev --all-packages

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="fairway" \
      org.opencontainers.image.description="Fairway: open CRM and marketing platform for golf and sports clubs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/fairway-golf/fairway" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 fairway \
    && useradd --system --uid 10001 --gid fairway --no-create-home --home-dir /tmp --shell /usr/sbin/nologin fairway
WORKDIR /app
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    FAIRWAY_HOME=/app \
    FAIRWAY_RUN_DIR=/tmp/fairway \
    FAIRWAY_HOST=0.0.0.0 \
    FAIRWAY_PORT=8080
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FAIRWAY_PORT', '8080') + '/healthz', timeout=2)"]
CMD ["fairway", "--help"]
