"""Deployment helpers: migrations as their own step, and Kubernetes resources generated from the topic catalogue.

The catalogue (`fairway_events.catalogue`) stays the one source of truth: `fairway k8s topics` renders a Strimzi
`KafkaTopic` per topic and dead-letter topic, and a test fails when the checked-in file differs from it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

SERVICE_NAMES = ("identity", "timeline", "segmentation", "campaigns", "journeys", "social", "ml-scoring", "ai-gateway")
DLQ_PARTITIONS = 1
DLQ_RETENTION_DAYS = 90
DAY_MS = 24 * 3600 * 1000


def package_of(service: str) -> str:
    return "fairway_" + service.replace("-", "_")


def migrate(services: list[str]) -> int:
    """Run each service's migrations in its own process (`python -m fairway_<service> migrate`), with the
    service's own settings, so the CLI needs none of the services' code."""
    for name in services:
        if name not in SERVICE_NAMES:
            raise ValueError(f"unknown service {name!r}; known: {', '.join(SERVICE_NAMES)}")
    for name in services:
        print(f"migrating {name}", flush=True)
        rc = subprocess.call([sys.executable, "-m", package_of(name), "migrate"], env=os.environ.copy())
        if rc != 0:
            print(f"migrations of {name} failed (exit {rc})", file=sys.stderr)
            return rc
    return 0


def _k8s_name(topic: str) -> str:
    # Kubernetes object names are DNS subdomains; topic names may hold '_'. The real name goes in spec.topicName.
    return topic.replace("_", "-").lower()


def kafka_topics(cluster: str = "fairway", replicas: int = 3, prefix: str = "") -> list[dict[str, Any]]:
    """One Strimzi KafkaTopic per catalogue topic and per dead-letter topic."""
    from fairway_events.catalogue import TOPICS

    out: list[dict[str, Any]] = []
    for t in TOPICS:
        config: dict[str, Any] = {"retention.ms": str(t.retention_ms),
                                  "min.insync.replicas": str(min(2, replicas))}
        # State topics are compacted (the catalogue says which once it carries a cleanup policy).
        policy = getattr(t, "cleanup_policy", None)
        if policy:
            config["cleanup.policy"] = policy
        for name, partitions, cfg in ((t.name, t.partitions, config),
                                      (t.dlq, DLQ_PARTITIONS, {"retention.ms": str(DLQ_RETENTION_DAYS * DAY_MS),
                                                               "min.insync.replicas": str(min(2, replicas))})):
            physical = f"{prefix}{name}"
            out.append({
                "apiVersion": "kafka.strimzi.io/v1",
                "kind": "KafkaTopic",
                "metadata": {"name": _k8s_name(physical), "labels": {"strimzi.io/cluster": cluster,
                                                                     "app.kubernetes.io/part-of": "fairway"},
                             "annotations": {"fairway.golf/owner": t.owner}},
                "spec": {"topicName": physical, "partitions": partitions, "replicas": replicas, "config": cfg},
            })
    return out


def render_yaml(docs: list[dict[str, Any]], header: str) -> str:
    import yaml

    body = "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)
    return f"# {header}\n{body}"


# -- Per-service Kubernetes objects ------------------------------------------------------------------------------
# What differs between services; everything else is the same shape for all eight.
PORT = 8080
SERVICE_PROFILES: dict[str, dict[str, Any]] = {
    # max_replicas never exceeds the partitions of the topics the service consumes (more would sit idle).
    "identity": {"max_replicas": 6, "memory": "1Gi", "lag": ("identity.resolution", "scl.events,teetime.events,messaging.events")},
    "timeline": {"max_replicas": 6, "memory": "1Gi", "lag": ("timeline.activities", "teetime.events,scl.events,messaging.events")},
    "segmentation": {"max_replicas": 6, "memory": "1Gi", "lag": ("segmentation.read-model", "crm.identity,crm.timeline,crm.scoring")},
    "campaigns": {"max_replicas": 6, "memory": "1Gi", "lag": None},
    "journeys": {"max_replicas": 6, "memory": "1Gi", "lag": None},
    "social": {"max_replicas": 3, "memory": "512Mi", "lag": None, "internet": True},
    "ml-scoring": {"max_replicas": 6, "memory": "2Gi", "lag": ("ml-scoring.features", "crm.identity,teetime.events,scl.events"), "mlflow": True},
    "ai-gateway": {"max_replicas": 3, "memory": "512Mi", "lag": None, "internet": True},
}
LABEL = "app.kubernetes.io/name"


def _env(service: str) -> list[dict[str, Any]]:
    up = service.replace("-", "_").upper()
    env: list[dict[str, Any]] = [
        {"name": f"FAIRWAY_{up}_DATABASE_URL",
         "valueFrom": {"secretKeyRef": {"name": f"fairway-db-{service}", "key": "uri"}}},
        {"name": "FAIRWAY_JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": "fairway-auth", "key": "jwt-secret",
                                                                       "optional": True}}},
        {"name": "OTEL_SERVICE_NAME", "value": f"fairway-{service}"},
    ]
    if service == "ai-gateway":
        env.append({"name": "FAIRWAY_AI_ANTHROPIC_API_KEY",
                    "valueFrom": {"secretKeyRef": {"name": "fairway-ai-provider", "key": "api-key", "optional": True}}})
    if service == "social":
        for var, key in (("TOKEN_KEYS", "token-keys"), ("STATE_SECRET", "state-secret"),
                         ("FACEBOOK_APP_ID", "facebook-app-id"), ("FACEBOOK_APP_SECRET", "facebook-app-secret"),
                         ("X_CLIENT_ID", "x-client-id"), ("X_CLIENT_SECRET", "x-client-secret")):
            env.append({"name": f"FAIRWAY_SOCIAL_{var}",
                        "valueFrom": {"secretKeyRef": {"name": "fairway-social", "key": key}}})
    return env


def _labels(service: str) -> dict[str, str]:
    return {LABEL: service, "app.kubernetes.io/part-of": "fairway", "app.kubernetes.io/component": "service"}


def _container_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]}}


def _pod_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"}}


def service_objects(service: str) -> list[dict[str, Any]]:
    """ServiceAccount, Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy, migration
    Job and ServiceMonitor of one service."""
    prof = SERVICE_PROFILES[service]
    name = f"fairway-{service}"
    labels = _labels(service)
    selector = {LABEL: service}
    pkg = package_of(service)
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    if service == "ml-scoring":
        volumes.append({"name": "data", "emptyDir": {"sizeLimit": "2Gi"}})
        mounts.append({"name": "data", "mountPath": "/var/lib/fairway"})
    env_from = [{"configMapRef": {"name": "fairway-config"}}]
    container = {
        "name": service, "image": "fairway", "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", pkg],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "envFrom": env_from, "env": _env(service),
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 10,
                           "timeoutSeconds": 3, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 20,
                          "periodSeconds": 20, "timeoutSeconds": 3, "failureThreshold": 3},
        "startupProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5, "failureThreshold": 60},
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                      "limits": {"cpu": "2", "memory": prof["memory"]}},
        "securityContext": _container_security(),
        "volumeMounts": mounts,
    }
    pod = {"serviceAccountName": name, "automountServiceAccountToken": False, "securityContext": _pod_security(),
           "containers": [container], "volumes": volumes, "terminationGracePeriodSeconds": 30}
    migrate_container = {**{k: v for k, v in container.items() if k not in
                            ("ports", "readinessProbe", "livenessProbe", "startupProbe")},
                         "name": "migrate", "command": ["python", "-m", pkg, "migrate"],
                         "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                       "limits": {"cpu": "1", "memory": "512Mi"}}}
    egress: list[dict[str, Any]] = [
        {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
        {"to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": "fairway"}}}],
         "ports": [{"protocol": "TCP", "port": 9092}]},
        {"to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "fairway-pg"}}}],
         "ports": [{"protocol": "TCP", "port": 5432}]},
    ]
    if prof.get("mlflow"):
        egress.append({"to": [{"podSelector": {"matchLabels": {LABEL: "mlflow"}}}],
                       "ports": [{"protocol": "TCP", "port": 5000}]})
    if prof.get("internet"):
        # Only the AI gateway (LLM provider) and social (platform APIs) leave the cluster, on HTTPS.
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                           "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}],
                       "ports": [{"protocol": "TCP", "port": 443}]})
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "labels": labels},
         "automountServiceAccountToken": False},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
         "spec": {"replicas": 2, "revisionHistoryLimit": 5, "selector": {"matchLabels": selector},
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                  "template": {"metadata": {"labels": labels,
                                            "annotations": {"prometheus.io/scrape": "true",
                                                            "prometheus.io/port": str(PORT)}},
                               "spec": pod}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels},
         "spec": {"selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "labels": labels},
         "spec": {"minAvailable": 1, "selector": {"matchLabels": selector}}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name, "labels": labels},
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                  "minReplicas": 2, "maxReplicas": prof["max_replicas"],
                  "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                      "type": "Utilization", "averageUtilization": 70}}}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "labels": labels},
         "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress", "Egress"],
                  "ingress": [{"from": [{"podSelector": {}}, {"namespaceSelector": {"matchLabels": {
                      "fairway.golf/ingress": "true"}}}], "ports": [{"protocol": "TCP", "port": PORT}]}],
                  "egress": egress}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": f"{name}-migrate", "labels": {
            **labels, "app.kubernetes.io/component": "migration"}},
         "spec": {"backoffLimit": 3, "ttlSecondsAfterFinished": 3600,
                  "template": {"metadata": {"labels": {LABEL: service, "app.kubernetes.io/component": "migration"}},
                               "spec": {**{k: v for k, v in pod.items() if k != "containers"},
                                        "restartPolicy": "OnFailure", "containers": [migrate_container]}}}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": name, "labels": labels},
         "spec": {"selector": {"matchLabels": selector},
                  "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}]}},
    ]


def lag_scaled_objects() -> list[dict[str, Any]]:
    """KEDA ScaledObjects scaling the heavy consumers on consumer-group lag, up to their topics' partitions."""
    out: list[dict[str, Any]] = []
    for service, prof in SERVICE_PROFILES.items():
        if not prof["lag"]:
            continue
        group, topics = prof["lag"]
        out.append({
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": f"fairway-{service}", "labels": _labels(service)},
            "spec": {"scaleTargetRef": {"name": f"fairway-{service}"}, "minReplicaCount": 2,
                     "maxReplicaCount": prof["max_replicas"],
                     "triggers": [{"type": "kafka", "metadata": {
                         "bootstrapServers": "fairway-kafka-bootstrap:9092", "consumerGroup": group,
                         "topic": topic, "lagThreshold": "1000", "allowIdleConsumers": "false"}}
                         for topic in topics.split(",")]},
        })
    return out
