from fairway_chassis.migrations_env import run
from fairway_identity.db import metadata

run(metadata)
