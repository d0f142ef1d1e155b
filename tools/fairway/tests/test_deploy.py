"""Deployment artefacts, checked offline: there is no Docker engine or cluster here, so CI proves what it can.

Every overlay is rendered by kustomize (kubectl's built-in), every object validated against the Kubernetes OpenAPI
schemas (kubernetes-validate) or the vendored CRD schemas; docker-compose.yml against the Compose specification;
the Dockerfile by hadolint; and the catalogue, the platform runner, compose and Kubernetes name the same services
and topics.
"""
from __future__ import annotations

import asyncio
import copy
import json
import os
import secrets
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import jsonschema
import kubernetes_validate
import pytest
import yaml

from fairway_cli.deploy import SERVICE_NAMES, kafka_topics, lag_scaled_objects, service_objects
from fairway_cli.platform import SERVICES
from fairway_events.catalogue import TOPICS

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BIN = Path(sys.executable).parent
OVERLAYS = ["base", "overlays/local", "overlays/production"]
K8S_VERSION = "1.37.0"


def render(path: str) -> list[dict[str, Any]]:
    """The objects kustomize renders for an overlay (a fresh copy each call: tests may change them)."""
    return copy.deepcopy(_render(path))


@cache
def _render(path: str) -> list[dict[str, Any]]:
    out = subprocess.run([str(BIN / "kubectl"), "kustomize", str(K8S / path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema of every vendored CRD version."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for f in (K8S / "crds").glob("*.yaml"):
        for crd in yaml.safe_load_all(f.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for v in crd["spec"]["versions"]:
                schemas[(f"{group}/{v['name']}", kind)] = v["schema"]["openAPIV3Schema"]
    return schemas


def validate(obj: dict[str, Any]) -> None:
    key = (obj["apiVersion"], obj["kind"])
    schema = crd_schemas().get(key)
    if schema is not None:
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, f"{key} {obj['metadata']['name']}: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        return
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:  # names the object, not just the schema path
        raise AssertionError(f"{key} {obj['metadata']['name']}: {exc.message} at {list(exc.path)}") from exc


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_is_valid(overlay: str) -> None:
    objects = render(overlay)
    assert len(objects) > 50
    for obj in objects:
        validate(obj)


def test_validation_catches_a_broken_object() -> None:
    # The check above must be able to fail: a Deployment with a misspelt field, a KafkaTopic with a bad type.
    deployment = next(o for o in render("base") if o["kind"] == "Deployment")
    deployment["spec"]["replicaz"] = 2
    with pytest.raises(AssertionError):
        validate(deployment)
    topic = kafka_topics()[0]
    topic["spec"]["partitions"] = "six"
    with pytest.raises(AssertionError):
        validate(topic)


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


@pytest.mark.parametrize("overlay", ["overlays/local", "overlays/production"])
def test_pods_are_locked_down(overlay: str) -> None:
    for obj in render(overlay):
        if obj["kind"] not in {"Deployment", "Job"}:
            continue
        pod = obj["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, obj["metadata"]["name"]
        assert pod.get("automountServiceAccountToken") is False, obj["metadata"]["name"]
        for c in _containers(obj):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, c["name"]
            assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
            assert "limits" in c["resources"] and "requests" in c["resources"], c["name"]


def test_each_service_has_its_full_set_of_objects() -> None:
    objects = render("overlays/production")
    by_kind: dict[str, set[str]] = {}
    for o in objects:
        by_kind.setdefault(o["kind"], set()).add(o["metadata"]["name"])
    for name in SERVICE_NAMES:
        full = f"fairway-{name}"
        for kind in ("ServiceAccount", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy",
                     "ServiceMonitor"):
            assert full in by_kind[kind], (kind, full)
        assert f"{full}-migrate" in by_kind["Job"]
        assert full in by_kind.get("HorizontalPodAutoscaler", set()) | by_kind.get("ScaledObject", set())
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    for name in SERVICE_NAMES:
        (c,) = deployments[f"fairway-{name}"]["spec"]["template"]["spec"]["containers"]
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_only_the_gateway_and_social_leave_the_cluster() -> None:
    for o in render("overlays/production"):
        if o["kind"] != "NetworkPolicy":
            continue
        leaves = any("ipBlock" in peer for rule in o["spec"].get("egress", []) for peer in rule.get("to", []))
        assert leaves == (o["metadata"]["name"] in {"fairway-ai-gateway", "fairway-social"}), o["metadata"]["name"]


def test_consumers_never_scale_past_their_partitions() -> None:
    partitions = {t.name: t.partitions for t in TOPICS}
    for so in lag_scaled_objects():
        topics = [t["metadata"]["topic"] for t in so["spec"]["triggers"]]
        assert so["spec"]["maxReplicaCount"] <= min(partitions[t] for t in topics), so["metadata"]["name"]
    production = render("overlays/production")
    hpa_names = {o["metadata"]["name"] for o in production if o["kind"] == "HorizontalPodAutoscaler"}
    scaled = {o["metadata"]["name"] for o in production if o["kind"] == "ScaledObject"}
    assert scaled and not hpa_names & scaled  # KEDA owns the HPA of what it scales


def test_no_secret_values_in_manifests() -> None:
    for overlay in OVERLAYS:
        for o in render(overlay):
            assert o["kind"] != "Secret", f"{overlay}: secrets come by reference only"
    for o in render("overlays/production"):
        if o["kind"] == "ConfigMap":
            assert not [k for k in o["data"] if any(w in k for w in ("SECRET", "PASSWORD", "API_KEY", "TOKEN"))]
        if o["kind"] in {"Deployment", "Job"}:
            for c in _containers(o):
                for e in c.get("env", []):
                    if any(w in e["name"] for w in ("SECRET", "PASSWORD", "KEY", "DATABASE_URL", "CREDENTIALS")):
                        assert "valueFrom" in e and "value" not in e, (o["metadata"]["name"], e["name"])


def test_topic_resources_equal_the_catalogue() -> None:
    committed = [d for d in yaml.safe_load_all((K8S / "base/kafka/topics.yaml").read_text()) if d]
    assert committed == kafka_topics(), "deploy/k8s/base/kafka/topics.yaml is stale: `fairway k8s topics > ...`"
    names = {d["spec"]["topicName"] for d in committed}
    assert names == {t.name for t in TOPICS} | {t.dlq for t in TOPICS}
    for d in committed:
        t = next((t for t in TOPICS if t.name == d["spec"]["topicName"]), None)
        if t is not None:
            assert d["spec"]["partitions"] == t.partitions


def test_service_manifests_are_generated_from_the_template() -> None:
    for name in SERVICE_NAMES:
        committed = [d for d in yaml.safe_load_all((K8S / f"base/services/{name}.yaml").read_text()) if d]
        assert committed == service_objects(name), f"{name}: stale, run `fairway k8s services`"
    keda = [d for d in yaml.safe_load_all((K8S / "components/keda-lag-scaling/scaledobjects.yaml").read_text()) if d]
    assert keda == lag_scaled_objects()


def test_every_service_is_everywhere() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    deployments = {o["metadata"]["name"] for o in render("overlays/local") if o["kind"] == "Deployment"}
    owners = {t.owner for t in TOPICS} - {"scl", "teetime", "messaging", "libs/events"}
    assert set(SERVICES) == set(SERVICE_NAMES)
    assert owners <= set(SERVICE_NAMES)
    for name in SERVICE_NAMES:
        assert name in compose["services"], f"{name} missing from docker-compose.yml"
        assert f"fairway-{name}" in deployments
        assert (ROOT / "services" / name / "pyproject.toml").exists()


def test_compose_file_matches_the_compose_specification() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    schema = json.loads((DEPLOY / "schemas/compose-spec.json").read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    one_shot = {"topics", "migrate", "demo-seed"}
    for name, svc in doc["services"].items():
        if name not in one_shot and name != "simulators":
            assert "healthcheck" in svc or "<<" in svc, f"{name} has no health check"
    for name in SERVICE_NAMES:
        deps = doc["services"][name].get("depends_on") or doc["x-fairway-service"]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    demo = {n for n, s in doc["services"].items() if "demo" in s.get("profiles", [])}
    assert demo == {"simulators", "demo-seed", "fake-llm", "fake-social"}


def test_dockerfile_passes_hadolint() -> None:
    out = subprocess.run([str(BIN / "hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


async def test_migrate_runs_as_its_own_step(pg_server_url: str, database_name: str) -> None:
    env = {**os.environ, "FAIRWAY_DATABASE_URL": pg_server_url, "FAIRWAY_IDENTITY_DATABASE_NAME": database_name,
           "FAIRWAY_JWT_SECRET": secrets.token_urlsafe(48)}
    out = await asyncio.to_thread(subprocess.run, [str(BIN / "fairway"), "migrate", "--service", "identity"],
                                  env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    conn = await asyncpg.connect(pg_server_url.replace("+asyncpg", "").rsplit("/", 1)[0] + f"/{database_name}")
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version")
        assert await conn.fetchval("SELECT to_regclass('event_outbox') IS NOT NULL")
    finally:
        await conn.close()
    bad = await asyncio.to_thread(subprocess.run, [str(BIN / "fairway"), "migrate", "--service", "billing"],
                                  env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "billing" in bad.stderr
