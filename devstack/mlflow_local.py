"""MLflow tracking and registry on a local SQLite database: nothing to start, only to check."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stack.settings import Settings


@dataclass(frozen=True)
class LocalMlflow:
    settings: Settings

    @property
    def address(self) -> str:
        return self.settings.mlflow_uri

    def up(self) -> None:
        """Create the folders and the database schema (MLflow migrates it on first use)."""
        if self.settings.mlflow_uri.startswith("sqlite:///"):
            (self.settings.state_dir / "mlflow").mkdir(parents=True, exist_ok=True)
            self.settings.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
        self.is_healthy()

    def is_healthy(self) -> bool:
        import mlflow  # heavy: imported only when MLflow is actually used

        logging.getLogger("alembic").setLevel(logging.WARNING)
        try:
            mlflow.MlflowClient(tracking_uri=self.address).search_registered_models(max_results=1)
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False
        return True
