"""A registered model version, loaded for serving with ONNX Runtime, after checking it fits.

A version is served only if its MLflow signature names model features Fairway computes (any subset, any
order) and its ONNX graph takes one rank-2 float tensor of that width. This is what lets a data scientist
register their own ONNX model under the same name and have it served once promoted. Versions Fairway
trained also carry `fairway.json` (feature baseline for explanations, drift reference, threshold).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairway_ml_scoring.features.transform import FEATURE_INDEX, FEATURE_NAMES


class ModelRejected(ValueError):
    """The version cannot be served (wrong tenant, signature or graph)."""


@dataclass
class LoadedModel:
    tenant_id: str
    model: str
    version: str
    features: list[str]
    session: Any
    input_name: str
    input_dtype: Any
    output_name: str
    output_column: int | None  # None: the output is already one value per row
    meta: dict[str, Any] = field(default_factory=dict)
    index: np.ndarray = field(
        default_factory=lambda: np.array([], dtype=int)
    )  # its features in FEATURE_NAMES

    def __post_init__(self) -> None:
        self.index = np.array([FEATURE_INDEX[f] for f in self.features], dtype=int)

    @property
    def baseline(self) -> dict[str, float] | None:
        return self.meta.get("baseline")

    @property
    def threshold(self) -> float | None:
        return self.meta.get("threshold")

    @property
    def horizon_days(self) -> int | None:
        return self.meta.get("horizon_days")

    def run(self, x: np.ndarray) -> np.ndarray:
        out = self.session.run([self.output_name], {self.input_name: x.astype(self.input_dtype, copy=False)})[
            0
        ]
        out = np.asarray(out, dtype=np.float64)
        if self.output_column is not None:
            out = out[:, self.output_column]
        return out.reshape(-1)

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Scores for rows of all model features (FEATURE_NAMES order): the serving fast path."""
        return self.run(np.atleast_2d(matrix)[:, self.index])

    def predict_frame(self, features: Any) -> np.ndarray:
        """Scores for a DataFrame holding (at least) this model's feature columns."""
        return self.run(features[self.features].to_numpy(dtype=np.float64))


def _signature_features(model_dir: Path) -> list[str]:
    from mlflow.models import Model

    try:
        mlmodel = Model.load(str(model_dir))
    except Exception as exc:  # noqa: BLE001 - any unreadable MLmodel means: not servable
        raise ModelRejected(f"no readable MLmodel file: {exc}") from exc
    sig = mlmodel.signature
    if sig is None or sig.inputs is None:
        raise ModelRejected(
            "the version has no signature; log it with a column signature naming its features"
        )
    if not sig.inputs.has_input_names():
        raise ModelRejected("the signature must name its input columns (the features, in input order)")
    names = sig.inputs.input_names()
    unknown = [n for n in names if n not in FEATURE_NAMES]
    if unknown:
        raise ModelRejected(f"signature names features Fairway does not compute: {', '.join(unknown[:5])}")
    if len(set(names)) != len(names):
        raise ModelRejected("signature names a feature twice")
    for spec in sig.inputs.inputs:
        kind = str(getattr(spec, "type", "")).lower()
        if not any(t in kind for t in ("float", "double", "long", "integer")):
            raise ModelRejected(f"feature {spec.name} has non-numeric type {kind}")
    return list(names)


def load_model(
    model_dir: Path,
    *,
    tenant_id: str,
    model: str,
    version: str,
    tags: dict[str, str],
    expect_probability: bool,
) -> LoadedModel:
    import onnxruntime as ort

    tag_tenant = tags.get("fairway.tenant")
    if tag_tenant is not None and tag_tenant != tenant_id:
        raise ModelRejected(f"version {version} belongs to tenant {tag_tenant!r}, not {tenant_id!r}")
    features = _signature_features(model_dir)
    onnx_files = sorted(model_dir.rglob("*.onnx"))
    if not onnx_files:
        raise ModelRejected("no .onnx file in the model version")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # serving is many small requests; batch scoring sets its own
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(onnx_files[0]), sess_options=options, providers=["CPUExecutionProvider"]
    )
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ModelRejected(f"the ONNX graph must take one input tensor, it takes {len(inputs)}")
    shape = inputs[0].shape
    if len(shape) != 2 or (isinstance(shape[1], int) and shape[1] != len(features)):
        raise ModelRejected(f"the ONNX input is {shape}, the signature names {len(features)} features")
    dtype = {"tensor(float)": np.float32, "tensor(double)": np.float64}.get(inputs[0].type)
    if dtype is None:
        raise ModelRejected(f"the ONNX input must be float or double, not {inputs[0].type}")
    meta: dict[str, Any] = {}
    meta_file = model_dir / "fairway.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
    # Pick the output by trying it: a [n, 2] float tensor is (1 - p, p); [n, 1] or [n] is the value itself.
    probe = np.zeros((3, len(features)), dtype=dtype)
    chosen: tuple[str, int | None] | None = None
    for out in session.get_outputs():
        if "float" not in out.type and "double" not in out.type:
            continue
        value = np.asarray(session.run([out.name], {inputs[0].name: probe})[0])
        if value.ndim == 2 and value.shape == (3, 2):
            chosen = (out.name, 1)
        elif (value.ndim == 2 and value.shape == (3, 1)) or value.shape == (3,):
            chosen = (out.name, 0 if value.ndim == 2 else None)
        if chosen:
            if expect_probability and not np.all((value >= 0) & (value <= 1)):
                chosen = None
                continue
            break
    if chosen is None:
        raise ModelRejected("no output of the ONNX graph gives one score (or a [n, 2] probability) per row")
    return LoadedModel(
        tenant_id=tenant_id,
        model=model,
        version=version,
        features=features,
        session=session,
        input_name=inputs[0].name,
        input_dtype=dtype,
        output_name=chosen[0],
        output_column=chosen[1],
        meta=meta,
    )
