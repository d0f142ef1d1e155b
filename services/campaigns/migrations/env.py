from fairway_chassis.migrations_env import run
from fairway_campaigns.db import metadata

run(metadata)
