from fairway_chassis.migrations_env import run
from fairway_social.db import metadata

run(metadata)
