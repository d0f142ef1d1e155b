from fairway_chassis.migrations_env import run
from fairway_timeline.db import metadata

run(metadata)
