from fairway_chassis.migrations_env import run
from fairway_ml_scoring.db import metadata

run(metadata)
