"""The service's durable job registry (procrastinate, via fairway_chassis.jobs). Concepts declare their tasks on it
in their own jobs.py; app.py imports those modules so every task is registered before the worker starts."""
from fairway_chassis.jobs import JobRegistry

registry: JobRegistry = JobRegistry("campaigns")
