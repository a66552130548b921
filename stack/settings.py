"""One settings model for the local run, the tests and docker-compose.

Every field reads an environment variable named ``MLOPS_FC_<FIELD>`` (see ``.env.example``).
Settings are read once, in each entry point's ``main()``, and handed down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from stack.secret_checks import weakness

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Typed configuration from ``MLOPS_FC_*`` environment variables (and an optional .env)."""

    model_config = SettingsConfigDict(
        env_prefix="MLOPS_FC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,  # a refused setting's error must not print every secret
    )

    environment: Literal["development", "test", "production"] = "development"
    state_dir: Path = Field(
        default=PROJECT_ROOT / ".mlops-fc",
        description="Local state: Kafka data, Redis files, MLflow database, pid files, logs.",
    )

    # Kafka
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    # Read only by stack/kafka_connection.py, which feeds every Kafka client of the project.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How clients talk to the brokers (managed Kafka: SASL_SSL)."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-512", description="SASL mechanism, used with a SASL_* protocol."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    kafka_ssl_ca_file: Path | None = Field(
        default=None, description="PEM CA bundle that signed the brokers' certificates (default: system CAs)."
    )
    kafka_ssl_cert_file: Path | None = Field(
        default=None, description="PEM client certificate, for brokers that ask for one (mutual TLS)."
    )
    kafka_ssl_key_file: Path | None = Field(
        default=None, description="PEM private key of the client certificate."
    )
    kafka_controller_port: int = Field(default=19093, ge=1, le=65535)
    kafka_heap: str = Field(default="1g", description="JVM heap of the local broker (-Xmx).")
    kafka_libs_dir: Path | None = Field(
        default=None, description="Broker jars; defaults to <state_dir>/kafka-libs."
    )
    topic_prefix: str = Field(
        default="",
        description="Namespace prepended to topics, consumer groups, Redis keys and the model name.",
    )
    topic_partitions: int = Field(default=4, ge=1, le=256)

    # Redis
    redis_url: str = "redis://127.0.0.1:16379/0"
    redis_password: SecretStr | None = None
    redis_persistence: bool = Field(default=True, description="AOF for the local run; off in tests.")

    # MLflow
    mlflow_tracking_uri: str | None = Field(
        default=None, description="Defaults to SQLite in <state_dir>/mlflow/mlflow.db."
    )
    mlflow_artifact_root: Path | None = None
    mlflow_ui_port: int = Field(default=5000, ge=1, le=65535)
    registered_model_name: str = "transfer-fee"

    # Inference worker
    worker_app_id: str = Field(
        default="mlops-fc-worker", description="Faust app id: the consumer group and table prefix."
    )
    worker_batch_size: int = Field(default=256, ge=1, description="Most requests scored in one batch.")
    worker_batch_wait_ms: float = Field(
        default=2.0, ge=0, description="Longest wait to fill a batch before scoring what is there."
    )
    worker_no_model_wait_s: float = Field(
        default=10.0, ge=0, description="How long requests wait for a first model before a no_model result."
    )
    worker_state_wait_s: float = Field(
        default=2.0,
        ge=0,
        description=(
            "Stall period of read-your-writes: a batch waits for records and transfers published before it"
            " to reach the state; on player partitions the worker owns it waits on through stalls (up to"
            " 30 periods or a rebalance), elsewhere it gives up after one period without progress."
        ),
    )
    worker_fetch_max_wait_ms: int = Field(
        default=20,
        ge=1,
        le=1500,
        description="Longest long-poll of the worker's Faust consumer (Faust uses 1500).",
    )
    worker_event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="Event loop of the worker (and of the Faust floor bench): uvloop, or asyncio's own.",
    )
    worker_stream_buffer_maxsize: int = Field(
        default=4096,
        ge=1,
        description=(
            "Faust's stream_buffer_maxsize for the worker: requests buffered per partition before back"
            " pressure."
        ),
    )
    worker_max_poll_records: int = Field(
        default=0,
        ge=0,
        description="Faust's broker_max_poll_records for the worker: most records a fetch gives (0: all).",
    )
    worker_producer_linger_ms: float = Field(
        default=20.0,
        ge=0,
        description=(
            "Faust's producer_linger for the worker (ms): how long its producer (the player-state"
            " changelog, one message per ingested event) gathers messages into one request."
        ),
    )
    worker_producer_batch_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Faust's producer_max_batch_size for the worker: most bytes of one partition's batch.",
    )
    worker_max_fetch_bytes: int = Field(
        default=1024**2,
        ge=1024,
        description=(
            "Faust's consumer_max_fetch_size for the worker: most bytes one fetch returns per partition."
        ),
    )
    worker_model_poll_s: float = Field(
        default=5.0, gt=0, description="Fallback check of Redis for a newer model (besides lifecycle events)."
    )
    worker_commit_interval_s: float = Field(
        default=0.5,
        gt=0,
        description="How often a worker commits handled requests: what a rebalance or crash may repeat.",
    )
    worker_stall_s: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds a request partition may sit read past its last answered request with no"
            " progress before it is read again (likewise a stuck table recovery); also the pause"
            " between two re-reads of one stretch."
        ),
    )
    worker_heartbeat_s: float = Field(
        default=5.0,
        gt=0,
        description=(
            "How often a worker writes its heartbeat (<topic prefix>mlops-fc:worker:<name> in Redis,"
            " TTL three times this): who is alive and which model it serves."
        ),
    )
    worker_static_membership: bool = Field(
        default=True,
        description=(
            "Join the consumer group as a static member named after the worker (group.instance.id):"
            " a restarted worker takes its partitions back at once. Worker names must then be unique."
        ),
    )

    worker_metrics_host: str = Field(
        default="127.0.0.1", description="Address of the worker's Prometheus /metrics (0.0.0.0: all)."
    )
    worker_metrics_port: int = Field(
        default=9102,
        ge=0,
        le=65535,
        description="Port of the worker's Prometheus /metrics, one per worker on a machine; 0: none.",
    )

    # Drift monitor
    monitor_group_id: str = Field(
        default="mlops-fc-monitor", description="Consumer group of `mlops-fc monitor` (after topic_prefix)."
    )
    drift_exclude_features: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Kept out of feature drift by hand (comma-separated), beside the trend rule.",
    )
    drift_trend_p: float = Field(
        default=1e-4,
        gt=0,
        lt=1,
        description="A feature whose reference trends with time (Spearman p below this) is not compared.",
    )
    drift_feature_window: int = Field(
        default=1000, ge=10, description="Most recent request vectors compared with the model's reference."
    )
    drift_feature_min_rows: int = Field(
        default=500, ge=10, description="Fewest vectors before a feature check."
    )
    drift_check_every: int = Field(
        default=250, ge=1, description="New vectors between two Evidently checks (each takes seconds)."
    )
    drift_column_threshold: float = Field(
        default=0.2,
        gt=0,
        description="Per-feature score (normed Wasserstein or Jensen-Shannon) that counts as drift.",
    )
    drift_share_threshold: float = Field(
        default=0.3, gt=0, le=1, description="Share of drifted features that raises a feature drift event."
    )
    drift_error_window: int = Field(
        default=300, ge=10, description="Latest labelled outcomes of the current model in the rolling error."
    )
    drift_error_min_rows: int = Field(
        default=150, ge=10, description="Fewest outcomes before an error check."
    )
    drift_error_ratio: float = Field(
        default=1.3,
        gt=1,
        description="Rolling MAE over validation MAE (log fee) that raises performance drift.",
    )
    drift_pending_limit: int = Field(
        default=100_000,
        ge=100,
        description="Predictions and early labels held while waiting for their match.",
    )
    drift_reports_keep: int = Field(
        default=200,
        ge=1,
        description="Evidently HTML reports kept on disk (a few MB each); older ones are deleted.",
    )

    # Calibrated intervals (monitoring/calibration.py)
    interval_level: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="Share of real fees the prediction interval should cover (0.8: an 80 % interval).",
    )
    interval_window: int = Field(
        default=400,
        ge=20,
        description="Latest labelled residuals (log fee) of a model version its interval is calibrated on.",
    )
    interval_min_labels: int = Field(
        # a new version's first window comes in a burst: the sooner its own residuals serve the better
        default=50,
        ge=10,
        description="Fewest labels of a version before its calibrated interval replaces the model's own.",
    )
    interval_publish_every: int = Field(
        default=25,
        ge=1,
        description="New labels between two publications of a version's calibrated bounds to Redis.",
    )
    interval_adapt_step: float = Field(
        # off: live, a window's labels come in one burst after its requests were answered, and
        # 0.02 overshot (bench/promotion.py holdout: 2017 66.6 %); see the README
        default=0.0,
        ge=0,
        lt=1,
        description="Adaptive conformal step of each tail's miscoverage target per labelled fee; 0: plain.",
    )
    interval_seed_from_predecessor: bool = Field(
        # bench/promotion.py, shadow 2020: 75.0 / 76.6 % seeded against 73.6 / 73.2 % without
        default=True,
        description="Start a new version's calibration window with the latest residuals of the one before.",
    )
    worker_interval_poll_s: float = Field(
        # 5 s let a whole burst of requests (a demo window) be scored with bounds a window old
        default=0.25,
        gt=0,
        description="How often a worker reads the calibrated interval bounds from Redis (never per request).",
    )

    # Retrainer
    retrain_cooldown_s: float = Field(
        default=300.0,
        ge=0,
        description="Least time between two retrains; drift events inside it are skipped.",
    )
    retrain_margin: float = Field(
        default=0.02,
        ge=0,
        lt=1,
        description="Promote only if the challenger's holdout MAE on log fee is this share lower.",
    )
    retrain_window: str = Field(
        default="all",
        pattern=r"^(all|seasons:[1-9][0-9]*|decay:[0-9]+(\.[0-9]+)?)$",
        description="Training history: 'all', 'seasons:K' (last K seasons), 'decay:H' (half-life H seasons).",
    )
    retrain_holdout_rows: int = Field(
        default=1000,
        ge=50,
        description="Most recent paid transfers held out to compare champion and challenger.",
    )
    retrain_prefetch_s: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds between the idle retrainer's reads and replays of the history published since"
            " (a retrain then starts from there); 0: read only when a retrain starts."
        ),
    )
    retrain_lock_ttl_s: float = Field(
        default=60.0,
        gt=0,
        description="Lock for one retrain at a time; renewed while training, expires if the holder dies.",
    )

    # Promotion on live evidence (shadow scoring, judged by the monitor on the real fees)
    promotion: Literal["holdout", "shadow"] = Field(
        default="shadow",
        description="holdout: a challenger that passes the holdout gate serves at once; "
        "shadow: it scores in shadow first and is promoted only on its paired live evidence.",
    )
    shadow_min_pairs: int = Field(
        default=100, ge=1, description="Labelled pairs (both models, same request) before a verdict."
    )
    shadow_max_pairs: int = Field(
        default=2000, ge=1, description="Pairs after which a challenger not yet better is rejected."
    )
    shadow_max_age_s: float = Field(
        default=30 * 24 * 3600.0, gt=0, description="Seconds in shadow after which it is rejected."
    )
    shadow_alpha: float = Field(
        default=0.05, gt=0, lt=1, description="Significance level of the one-sided paired test."
    )
    shadow_guardrail_window: int = Field(
        default=300,
        ge=0,
        description="Labelled outcomes after a promotion during which the previous champion scores "
        "in shadow and a significantly worse new champion is rolled back (0: no guardrail).",
    )

    # Security
    model_signing_key: SecretStr = Field(
        default=SecretStr("dev-only-change-me"),
        description="HMAC-SHA256 key that signs model artifacts crossing Redis or disk.",
    )
    api_key: SecretStr = Field(
        default=SecretStr("dev-only-change-me"), description="Required by write endpoints."
    )

    # API
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="Origins allowed to call the REST facade from a browser (comma-separated)."
    )
    api_max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest request body the REST facade accepts (413 above)."
    )
    api_result_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="How long POST /v1/predictions waits for the result before a 202.",
    )
    api_batch_max: int = Field(default=500, ge=1, description="Most requests in one batch call.")
    api_flows_sample_s: float = Field(
        default=5.0, gt=0, description="Seconds between two samples of offsets and lag (rates, /metrics)."
    )
    api_serving_check_s: float = Field(
        default=5.0, gt=0, description="Seconds between two comparisons of the champion with the workers."
    )
    api_worker_stale_s: float = Field(
        default=30.0, gt=0, description="A worker heartbeat older than this counts as a dead worker."
    )
    api_model_disagreement_grace_s: float = Field(
        default=30.0,
        ge=0,
        description="How long workers may serve another version than the champion before it is reported.",
    )
    result_ttl_s: int = Field(
        default=86_400, ge=1, description="How long the result store keeps a result (seconds)."
    )
    sink_group_id: str = Field(
        default="mlops-fc-sink", description="Consumer group of `mlops-fc sink` (after topic_prefix)."
    )

    # `mlops-fc alerts`: the webhook sink
    alert_webhook_url: SecretStr | None = Field(
        default=None,
        description="Webhook the alerts are POSTed to (a Slack incoming-webhook URL is a secret).",
    )
    alert_webhook_format: Literal["slack", "json"] = Field(
        default="slack", description="Body of each POST: Slack blocks with a text fallback, or generic JSON."
    )
    alert_webhook_timeout_s: float = Field(default=5.0, gt=0, description="Longest wait for one POST.")
    alert_retry_attempts: int = Field(
        default=5, ge=1, description="Attempts per alert before it is given up."
    )
    alert_retry_first_s: float = Field(
        default=1.0, gt=0, description="Pause before the first retry; doubles with each failure."
    )
    alert_retry_most_s: float = Field(default=60.0, gt=0, description="Longest pause between two retries.")
    alert_queue_size: int = Field(
        default=200, ge=1, description="Alerts waiting for the webhook; when full, the oldest is dropped."
    )
    alert_deadletter_rate_per_min: float = Field(
        default=10.0, ge=0, description="Dead letters a minute above which an alert is raised."
    )
    alert_worker_stale_s: float = Field(
        default=60.0, gt=0, description="A worker heartbeat older than this (or expired) raises an alert."
    )
    alert_heartbeat_check_s: float = Field(
        default=10.0, gt=0, description="Seconds between two reads of the workers' heartbeats."
    )
    alert_group_id: str = Field(
        default="mlops-fc-alerts", description="Consumer group of `mlops-fc alerts` (after topic_prefix)."
    )
    alert_offset_reset: Literal["latest", "earliest"] = Field(
        default="latest",
        description="Where a new alerts group starts: 'latest' alerts only on what happens now.",
    )
    alert_metrics_port: int = Field(
        default=9104, ge=0, le=65535, description="Port of the alert sink's /metrics (0: none)."
    )

    # `mlops-fc data fetch`: base URLs of the pinned public files (a mirror may replace them)
    data_transfers_url: str = Field(
        default="https://raw.githubusercontent.com/ewenme/transfers/b531325a83bf3114f29546198ac4b73230402f52",
        description="Base URL of the Transfermarkt files (data/<league>.csv below it).",
    )
    data_stats_url: str = Field(
        default="https://raw.githubusercontent.com/vibedatascience/understat_players_aggregated/"
        "3bbac10a57de31251d0ec2a08ee008b959e77e55",
        description="Base URL of the Understat season file.",
    )

    # `mlops-fc up`: the supervised local services
    up_restart_backoff_max_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest pause before `up`'s supervisor restarts a service that keeps dying.",
    )
    up_ready_timeout_s: float = Field(
        default=300.0, gt=0, description="How long `mlops-fc up` waits for every service to report ready."
    )

    @field_validator("drift_exclude_features", "api_cors_origins", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        # The environment holds "a,b" (a JSON or Python list of names works too); code may
        # pass a tuple or list.
        if isinstance(value, str):
            names = (name.strip().strip("()[]'\" ") for name in value.split(","))
            return tuple(name for name in names if name)
        return value

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"MLOPS_FC_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "MLOPS_FC_KAFKA_SASL_USERNAME and MLOPS_FC_KAFKA_SASL_PASSWORD"
            )
        if (self.kafka_ssl_cert_file is None) != (self.kafka_ssl_key_file is None):
            raise ValueError("MLOPS_FC_KAFKA_SSL_CERT_FILE and MLOPS_FC_KAFKA_SSL_KEY_FILE go together")
        return self

    @model_validator(mode="after")
    def _shadow_pairs_in_order(self) -> Settings:
        if self.shadow_min_pairs > self.shadow_max_pairs:
            raise ValueError("MLOPS_FC_SHADOW_MIN_PAIRS must not exceed MLOPS_FC_SHADOW_MAX_PAIRS")
        return self

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        if self.environment != "production":
            return self
        for name in ("model_signing_key", "api_key", "redis_password"):
            secret: SecretStr | None = getattr(self, name)
            if secret is None:
                raise ValueError(
                    f"MLOPS_FC_{name.upper()} is not set; production needs it"
                    " (a Redis without a password is open to anyone who reaches its port)"
                )
            problem = weakness(secret.get_secret_value())
            if problem is not None:
                raise ValueError(
                    f"MLOPS_FC_{name.upper()} {problem}; set a real secret before running with"
                    " MLOPS_FC_ENVIRONMENT=production, e.g. python -c"
                    " 'import secrets; print(secrets.token_urlsafe(32))'"
                )
        return self

    # Derived locations -------------------------------------------------------------------

    @property
    def kafka_jars_dir(self) -> Path:
        return self.kafka_libs_dir or self.state_dir / "kafka-libs"

    @property
    def mlflow_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.state_dir / 'mlflow' / 'mlflow.db').resolve()}"

    @property
    def mlflow_artifacts(self) -> Path:
        return (self.mlflow_artifact_root or self.state_dir / "mlflow" / "artifacts").resolve()

    @property
    def model_name(self) -> str:
        """The registered model's name, namespaced like the topics."""
        return f"{self.topic_prefix}{self.registered_model_name}"

    def topic(self, name: str) -> str:
        """The broker-side name of a catalogue topic."""
        return f"{self.topic_prefix}{name}"

    def catalogue_name(self, broker_topic: str) -> str:
        """The inverse of ``topic``: a broker-side name without this deployment's prefix."""
        return broker_topic.removeprefix(self.topic_prefix)
