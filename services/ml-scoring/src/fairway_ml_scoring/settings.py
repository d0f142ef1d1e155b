"""ml-scoring settings (env prefix FAIRWAY_ML_SCORING_, falling back to FAIRWAY_*). Fail fast on bad config."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from fairway_chassis import ServiceSettings

ChurnLabel = Literal["inactivity", "membership_cancelled", "either"]


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAIRWAY_ML_SCORING_", extra="ignore")
    service_name: ClassVar[str] = "ml-scoring"
    default_port: ClassVar[int] = 8007

    # The platform's run folder; this service keeps Feast's registry, offline files, the sqlite online store
    # and (without a tracking server) MLflow's sqlite backend and artifacts under <run_dir>/ml-scoring/.
    run_dir: Path = Path(".run")

    # Region for phone numbers written without a country code (identity normalises keys the same way).
    phone_region: str = Field(default="ZA", pattern=r"^[A-Z]{2}$")

    # -- Feast ---------------------------------------------------------------------------------------
    feast_project: str = Field(default="fairway", pattern=r"^[a-z][a-z0-9_]{0,40}$")
    online_store: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str | None = None  # host:port[,password=...] as Feast's redis store expects
    materialize_interval_seconds: float = Field(default=6 * 3600, ge=1)
    feast_pg_sslmode: str = "prefer"  # for Feast's PostgreSQL offline store (the service's own database)

    # -- MLflow --------------------------------------------------------------------------------------
    mlflow_tracking_uri: str | None = None  # default: sqlite under the run folder
    mlflow_registry_uri: str | None = None  # default: the tracking URI
    mlflow_artifact_root: str | None = None  # default: file store under the run folder
    model_name_template: str = "{tenant}.{model}"  # one registered model per tenant and kind
    model_poll_seconds: float = Field(default=15.0, ge=0.1)

    # -- churn -----------------------------------------------------------------------------------------
    churn_label: ChurnLabel = "inactivity"
    churn_horizon_days: int = Field(default=90, ge=7, le=730)
    churn_training_snapshots: int = Field(default=6, ge=1, le=60)
    churn_snapshot_step_days: int = Field(default=30, ge=1, le=365)
    population_lookback_days: int = Field(default=365, ge=7)
    auc_floor: float = Field(default=0.65, ge=0.5, le=1.0)
    min_auc_improvement: float = Field(default=0.0, ge=0.0, le=0.5)
    auto_promote: bool = True
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    challenger_traffic: float = Field(default=0.0, ge=0.0, le=1.0)
    risk_thresholds: tuple[float, float, float] = (0.3, 0.6, 0.85)  # MEDIUM, HIGH, CRITICAL from these up
    prediction_validity_days: int = Field(default=7, ge=1, le=90)
    min_training_rows: int = Field(default=40, ge=10)

    # -- monitoring --------------------------------------------------------------------------------------
    drift_psi_threshold: float = Field(default=0.2, gt=0)
    drift_window_days: int = Field(default=7, ge=1)
    drift_interval_seconds: float = Field(default=6 * 3600, ge=1)
    degradation_min_outcomes: int = Field(default=30, ge=5)
    degradation_tolerance: float = Field(default=0.05, ge=0, le=0.5)

    # -- CLV and send time -------------------------------------------------------------------------------
    clv_horizon_days: int = Field(default=365, ge=30, le=1095)
    sto_timezone: str = "UTC"
    sto_confidence_k: float = Field(default=15.0, gt=0)  # opens needed for 0.5 confidence
    sto_min_confidence: float = Field(default=0.3, ge=0, le=1)
    sto_lookback_days: int = Field(default=180, ge=7)

    @field_validator("risk_thresholds")
    @classmethod
    def _ordered(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if not (0 < v[0] < v[1] < v[2] < 1):
            raise ValueError("risk thresholds must be increasing probabilities in (0, 1)")
        return v

    @field_validator("sto_timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(v)  # raises on an unknown zone
        return v

    @field_validator("model_name_template")
    @classmethod
    def _template(cls, v: str) -> str:
        if "{tenant}" not in v or "{model}" not in v:
            raise ValueError("model_name_template must contain {tenant} and {model}")
        return v

    @model_validator(mode="after")
    def _redis(self) -> Settings:
        if self.online_store == "redis" and not self.redis_url:
            raise ValueError("online_store=redis needs redis_url (FAIRWAY_ML_SCORING_REDIS_URL)")
        return self

    @property
    def data_dir(self) -> Path:
        return (self.run_dir / "ml-scoring").resolve()

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{self.data_dir / 'mlflow.db'}"

    @property
    def registry_uri(self) -> str:
        return self.mlflow_registry_uri or self.tracking_uri

    @property
    def artifact_root(self) -> str | None:
        """Where new experiments keep artifacts; None lets a tracking server decide."""
        if self.mlflow_artifact_root:
            return self.mlflow_artifact_root
        if self.mlflow_tracking_uri and self.mlflow_tracking_uri.startswith(("http://", "https://")):
            return None
        return (self.data_dir / "mlartifacts").as_uri()

    def registered_name(self, tenant: str, model: str) -> str:
        return self.model_name_template.format(tenant=tenant, model=model)
