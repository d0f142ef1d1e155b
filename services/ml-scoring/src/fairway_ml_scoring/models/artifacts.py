"""Writing an MLflow ONNX model folder (MLmodel with onnx + python_function flavors, the signature, the
graph) without mlflow.onnx.save_model's scan of every installed package for requirements (seconds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save_onnx_model(onx: Any, path: Path, signature: Any) -> None:
    import onnx
    from mlflow.models import Model
    from mlflow.pyfunc import add_to_model

    path.mkdir(parents=True, exist_ok=True)
    onnx.save_model(onx, str(path / "model.onnx"))
    model = Model(signature=signature)
    model.add_flavor(
        "onnx",
        onnx_version=onnx.__version__,
        data="model.onnx",
        providers=["CPUExecutionProvider"],
        code=None,
    )
    add_to_model(model, loader_module="mlflow.onnx", data="model.onnx")
    model.save(str(path / "MLmodel"))
    (path / "requirements.txt").write_text("onnxruntime\n")
