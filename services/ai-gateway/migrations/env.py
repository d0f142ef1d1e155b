from fairway_chassis.migrations_env import run
from fairway_ai_gateway.db import metadata

run(metadata)
