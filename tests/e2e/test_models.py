"""After `make up`, the demo club's data scientist trains churn and CLV models on the simulated history with
`fairway-ml train`; they are registered in MLflow, promoted, and served by ml-scoring with ONNX Runtime."""
from __future__ import annotations

import re
from typing import Any

import httpx

from fairway_testkit import wait_for

from .conftest import Platform

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def test_demo_club_trains_promotes_and_serves_its_models(platform: Platform) -> None:
    ml = f"{platform.url('ml-scoring')}/api/v1/ml"
    analyst = {"Authorization": f"Bearer {platform.token('demo', 'analyst')}"}
    async with httpx.AsyncClient(timeout=30) as client:
        async def served_champions() -> dict[str, Any] | None:
            try:  # the registry is MLflow's server, which may still be starting on a loaded machine
                r = await client.get(f"{ml}/models", headers=analyst)
            except httpx.TimeoutException:
                return None
            assert r.status_code == 200, r.text
            models = {m["name"]: m for m in r.json()["items"]}
            ready = all(m["champion"] and m["served"].get("champion") == m["champion"] for m in models.values())
            return models if ready and set(models) == {"churn", "clv"} else None

        # Bounded: a few minutes of the demo club (history in, two trainings, the service's next alias poll).
        models = await wait_for(served_champions, timeout=600, interval=5, what="champion churn and CLV models")
        churn = models["churn"]
        assert churn["registeredName"] == "demo.churn" and not churn["loadErrors"]
        version = next(v for v in churn["versions"] if v["version"] == churn["champion"])
        assert version["metrics"]["holdout_auc"] >= 0.65  # the gate's floor

        # Predictions come from the served champion, about profiles identity announced.
        staff = {"Authorization": f"Bearer {platform.token('demo', 'staff')}"}
        profiles = (await client.get(f"{platform.url('identity')}/api/v1/customers", params={"limit": 5},
                                     headers=staff)).json()["items"]
        assert profiles
        r = await client.get(f"{ml}/churn/predict", params={"customerId": profiles[0]["id"], "refresh": "true"},
                             headers=staff)
        assert r.status_code == 200, r.text
        prediction = r.json()
        assert prediction["model"]["source"] == "MODEL"
        assert prediction["modelVersion"] == f"churn-v{churn['champion']}" != "rules-v1"
        r = await client.get(f"{ml}/clv/predict", params={"customerId": profiles[0]["id"]}, headers=staff)
        assert r.status_code == 200, r.text
        assert r.json()["model"]["source"] == "MODEL" and r.json()["modelVersion"] == f"clv-v{models['clv']['champion']}"

        # Only profiles are customers: every member at risk is a profile id, never a key hash.
        r = await client.get(f"{ml}/churn/at-risk", params={"riskLevel": ["MEDIUM", "HIGH", "CRITICAL"]},
                             headers=staff)
        assert r.status_code == 200, r.text
        assert all(UUID.match(item["customerId"]) for item in r.json()["items"])
