from fairway_chassis.migrations_env import run
from fairway_segmentation.db import metadata

run(metadata)
