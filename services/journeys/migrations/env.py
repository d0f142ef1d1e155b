from fairway_chassis.migrations_env import run
from fairway_journeys.db import metadata

run(metadata)
