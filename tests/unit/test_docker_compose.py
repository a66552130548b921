"""docker-compose.yml and the Dockerfile, checked statically: no Docker engine runs here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"

EXPECTED_SERVICES = {
    "kafka", "kafka-ui", "redis", "mlflow", "topics", "worker", "retrainer", "monitor", "api", "ingest",
    "prometheus", "grafana",
}  # fmt: skip
SETTING_VARIABLES = {f"MLOPS_FC_{name.upper()}" for name in Settings.model_fields}
APP_SERVICES = ("topics", "worker", "retrainer", "monitor", "api", "sink", "ingest")
LOCK_INSTALL = re.compile(r"pip install .*-r \S*requirements\.lock")
PROJECT_PACKAGES = (
    "schemas",
    "features",
    "modelstore",
    "stack",
    "producers",
    "inference",
    "monitoring",
    "retrainer",
    "consumers",
    "api",
    "cli",
    "devstack",
    "demo",
)


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    document = yaml.safe_load(compose_text)
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, from either the map or the list syntax."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _split_image(image: str) -> tuple[str, str | None]:
    """(repository, tag) of an image reference; the tag is None when missing."""
    reference = image.split("@", 1)[0]
    name_part = reference.rsplit("/", 1)[-1]
    if ":" not in name_part:
        return reference, None
    repository, _, tag = reference.rpartition(":")
    return repository, tag


def _is_pinned(tag: str | None) -> bool:
    # A version carries a digit; latest, main, stable and the like move under your feet.
    return tag is not None and tag != "latest" and any(ch.isdigit() for ch in tag)


def _listener_ports(listeners: str) -> dict[str, tuple[str, int]]:
    """KAFKA_LISTENERS-style 'NAME://host:port,...' as {NAME: (host, port)}."""
    parsed: dict[str, tuple[str, int]] = {}
    for entry in listeners.split(","):
        name, _, address = entry.strip().partition("://")
        host, _, port = address.rpartition(":")
        parsed[name] = (host, int(port))
    return parsed


def _published_host_ports(service: dict[str, Any]) -> list[int]:
    ports: list[int] = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.append(int(entry["published"]))
            continue
        parts = str(entry).split("/")[0].split(":")
        assert len(parts) >= 2, f"{entry!r}: publish with an explicit host port"
        ports.append(int(parts[-2]))
    return ports


def _internal_bootstrap(services: dict[str, dict[str, Any]]) -> tuple[str, int]:
    env = _environment(services["kafka"])
    advertised = _listener_ports(env["KAFKA_ADVERTISED_LISTENERS"])
    internal = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
    return advertised[internal]


def test_all_services_are_present(services: dict[str, dict[str, Any]]) -> None:
    assert EXPECTED_SERVICES <= set(services)


def test_every_image_is_pinned_by_an_explicit_tag(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        if "image" in service:
            _, tag = _split_image(service["image"])
            assert _is_pinned(tag), f"{name}: image {service['image']!r} is not pinned to a version"


def test_kafka_image_matches_the_local_broker_version(services: dict[str, dict[str, Any]]) -> None:
    pom = (ROOT / "devstack" / "kafka" / "pom.xml").read_text(encoding="utf-8")
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    assert match is not None
    assert services["kafka"]["image"] == f"apache/kafka:{match.group(1)}"


def test_every_mlops_fc_variable_is_a_real_setting(compose_text: str) -> None:
    # The raw text catches environment keys and ${...} references alike.
    used = set(re.findall(r"MLOPS_FC_[A-Z0-9_]+", compose_text))
    assert used, "docker-compose.yml should configure the services through MLOPS_FC_* settings"
    unknown = sorted(used - SETTING_VARIABLES)
    assert not unknown, f"not fields of stack.settings.Settings: {unknown}"


def test_variables_read_from_the_host_are_documented_in_env_example(compose_text: str) -> None:
    env_example = ENV_EXAMPLE.read_text(encoding="utf-8")
    for variable in set(re.findall(r"\$\{([A-Z0-9_]+)", compose_text)):
        assert re.search(rf"^#?\s*{variable}=", env_example, re.MULTILINE), variable


def test_kafka_runs_kraft_single_node(services: dict[str, dict[str, Any]]) -> None:
    env = _environment(services["kafka"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node_id = env["KAFKA_NODE_ID"]
    listeners = _listener_ports(env["KAFKA_LISTENERS"])
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node_id}@kafka:{listeners[controller][1]}"
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert env[key] == "1", key
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(listeners) <= set(protocols)


def test_kafka_listeners_serve_containers_and_host(services: dict[str, dict[str, Any]]) -> None:
    env = _environment(services["kafka"])
    listeners = _listener_ports(env["KAFKA_LISTENERS"])
    advertised = _listener_ports(env["KAFKA_ADVERTISED_LISTENERS"])
    assert set(advertised) <= set(listeners)
    for name, (_, port) in advertised.items():
        assert listeners[name][1] == port, name
    hosts = {host for host, _ in advertised.values()}
    assert "kafka" in hosts and "localhost" in hosts
    external_ports = {port for name, (host, port) in advertised.items() if host == "localhost"}
    assert external_ports <= set(_published_host_ports(services["kafka"]))


def test_kafka_ui_uses_the_internal_listener(services: dict[str, dict[str, Any]]) -> None:
    bootstrap = _environment(services["kafka-ui"])["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"]
    host, _, port = bootstrap.rpartition(":")
    assert (host, int(port)) == _internal_bootstrap(services)
    listeners = _listener_ports(_environment(services["kafka"])["KAFKA_LISTENERS"])
    assert int(port) in {listener_port for _, listener_port in listeners.values()}
    assert 8080 in _published_host_ports(services["kafka-ui"])


def test_project_services_reach_the_stack_by_service_name(services: dict[str, dict[str, Any]]) -> None:
    host, port = _internal_bootstrap(services)
    for name, service in services.items():
        if "build" not in service:
            continue
        env = _environment(service)
        assert env["MLOPS_FC_KAFKA_BOOTSTRAP_SERVERS"] == f"{host}:{port}", name
        assert env["MLOPS_FC_REDIS_URL"].startswith("redis://redis:6379/"), name
        assert env["MLOPS_FC_MLFLOW_TRACKING_URI"] == "http://mlflow:5000", name
        for secret in ("MLOPS_FC_MODEL_SIGNING_KEY", "MLOPS_FC_API_KEY", "MLOPS_FC_REDIS_PASSWORD"):
            # Required from the host (${VAR:?message}), never a value written in the file.
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret]), (name, secret)


def test_redis_requires_the_password_the_services_use(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    command = redis["command"]
    assert "--requirepass" in command
    password = command[command.index("--requirepass") + 1]
    assert password == _environment(services["worker"])["MLOPS_FC_REDIS_PASSWORD"]


def test_published_ports_are_unique(services: dict[str, dict[str, Any]]) -> None:
    published = [port for service in services.values() for port in _published_host_ports(service)]
    assert len(published) == len(set(published)), sorted(published)
    assert {9092, 8080, 6379, 5000, 8000} <= set(published)


def test_depends_on_waits_for_health_or_completion(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs the long form with conditions"
        for target, spec in depends_on.items():
            assert target in services, f"{name} depends on unknown service {target}"
            condition = spec.get("condition")
            assert condition in {"service_healthy", "service_completed_successfully"}, (name, target)
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits on {target}: no healthcheck"
            else:
                assert services[target].get("restart", "no") == "no", f"{target} is not a one-shot job"
                assert "profiles" not in services[target], f"{target} must start by default"


def test_project_services_and_their_commands(services: dict[str, dict[str, Any]]) -> None:
    commands = {name: services[name]["command"] for name in APP_SERVICES}
    assert commands == {
        "topics": ["mlops-fc", "stack", "topics"],
        "worker": ["mlops-fc", "worker"],
        "retrainer": ["mlops-fc", "retrainer"],
        "monitor": ["mlops-fc", "monitor"],
        "api": ["mlops-fc", "api"],
        "sink": ["mlops-fc", "sink"],
        "ingest": ["mlops-fc", "ingest", "synthetic"],
    }
    assert services["ingest"]["profiles"] == ["ingest"]
    for name in ("worker", "retrainer", "monitor", "api", "sink", "ingest"):
        assert services[name]["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_api_listens_on_all_interfaces_and_is_health_checked(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    env = _environment(api)
    assert env["MLOPS_FC_API_HOST"] == "0.0.0.0"
    assert int(env["MLOPS_FC_API_PORT"]) in _published_host_ports(api)
    assert any(f":{env['MLOPS_FC_API_PORT']}/healthz" in part for part in api["healthcheck"]["test"])


def test_volumes_are_named_and_declared(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount["source"] if isinstance(mount, dict) else str(mount).split(":", 1)[0]
            assert source in declared, f"{name}: {source!r} is not a named volume"


def test_built_services_use_the_dockerfile(services: dict[str, dict[str, Any]]) -> None:
    built = {name: service for name, service in services.items() if "build" in service}
    assert set(APP_SERVICES) <= set(built)
    for name, service in built.items():
        build = service["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE, name
    assert len({service.get("image") for service in built.values()}) == 1, "one image for every service"


def test_dockerfile_base_image_is_pinned(dockerfile: list[tuple[str, str]]) -> None:
    bases = [arguments.split()[0] for keyword, arguments in dockerfile if keyword == "FROM"]
    assert bases
    for base in bases:
        repository, tag = _split_image(base)
        assert _is_pinned(tag), base
    repository, tag = _split_image(bases[-1])
    assert repository == "python" and str(tag).startswith("3.11."), "the project runs on Python 3.11"


def test_dockerfile_installs_the_lock_then_the_project(dockerfile: list[tuple[str, str]]) -> None:
    runs = [arguments for keyword, arguments in dockerfile if keyword == "RUN"]
    lock_install = next(i for i, run in enumerate(runs) if LOCK_INSTALL.search(run))
    project_install = next(i for i, run in enumerate(runs) if re.search(r"pip install .*--no-deps", run))
    assert lock_install < project_install


def test_dockerfile_copies_every_project_package(dockerfile: list[tuple[str, str]]) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    included = set(re.findall(r'"(\w+)\*"', pyproject))
    assert included == set(PROJECT_PACKAGES)
    sources = {
        source.rstrip("/")
        for keyword, arguments in dockerfile
        if keyword == "COPY"
        for source in arguments.split()[:-1]
    }
    assert set(PROJECT_PACKAGES) | {"requirements.lock", "pyproject.toml", "README.md"} <= sources


def test_dockerfile_runs_as_non_root_with_help_as_default(dockerfile: list[tuple[str, str]]) -> None:
    users = [arguments for keyword, arguments in dockerfile if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    commands = [arguments for keyword, arguments in dockerfile if keyword == "CMD"]
    assert commands[-1] == '["mlops-fc", "--help"]'


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert {".env", ".venv/", ".mlops-fc/", ".git/"} <= ignored


# ---- Metrics: Prometheus scraping the facade, Grafana provisioned with the dashboard ------------


def _config_file(compose: dict[str, Any], service: dict[str, Any], target: str) -> Path:
    """The file of deploy/ that compose mounts at ``target`` in ``service`` (top-level configs)."""
    sources = {entry["target"]: entry["source"] for entry in service.get("configs", [])}
    assert target in sources, f"nothing mounted at {target}"
    path = (ROOT / compose["configs"][sources[target]]["file"]).resolve()
    assert path.is_file() and path.is_relative_to(ROOT / "deploy"), path
    return path


def _metric_names() -> set[str]:
    """What the facade's and a worker's /metrics expose, as Prometheus sees it (counters get _total, ...)."""
    from prometheus_client import generate_latest

    from api.metrics import ApiMetrics
    from consumers.alerts import AlertMetrics
    from inference.metrics import WorkerMetrics

    text = (
        generate_latest(ApiMetrics().registry).decode()
        + generate_latest(WorkerMetrics("w").registry).decode()
        + generate_latest(AlertMetrics().registry).decode()
    )
    names = set(re.findall(r"^# TYPE (\S+) (\w+)", text, re.MULTILINE))
    out = set()
    for name, kind in names:
        out |= {name, f"{name}_total"} if kind == "counter" else {name}
        if kind == "histogram":
            out |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return out


def test_every_config_file_exists(compose: dict[str, Any]) -> None:
    for name, config in compose.get("configs", {}).items():
        assert (ROOT / config["file"]).is_file(), name


def test_prometheus_scrapes_the_api_metrics_endpoint(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    prometheus = services["prometheus"]
    config = yaml.safe_load(_config_file(compose, prometheus, "/etc/prometheus/prometheus.yml").read_text())
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    api_port = _environment(services["api"])["MLOPS_FC_API_PORT"]
    targets = {
        (job.get("metrics_path", "/metrics"), target)
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    assert ("/metrics", f"api:{api_port}") in targets
    assert prometheus["depends_on"]["api"]["condition"] == "service_healthy"
    assert 9090 in _published_host_ports(prometheus)


def test_prometheus_finds_every_worker_replica_by_dns(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    config = yaml.safe_load(
        _config_file(compose, services["prometheus"], "/etc/prometheus/prometheus.yml").read_text()
    )
    worker = _environment(services["worker"])
    assert worker["MLOPS_FC_WORKER_METRICS_HOST"] == "0.0.0.0"  # reachable from the prometheus container
    discovered = {
        (job.get("metrics_path", "/metrics"), name, sd["port"], sd["type"])
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    assert ("/metrics", "worker", int(worker["MLOPS_FC_WORKER_METRICS_PORT"]), "A") in discovered


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    grafana = services["grafana"]
    datasource_file = "/etc/grafana/provisioning/datasources/prometheus.yml"
    datasources = yaml.safe_load(_config_file(compose, grafana, datasource_file).read_text())["datasources"]
    (source,) = datasources
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    provider_file = "/etc/grafana/provisioning/dashboards/mlops-fc.yml"
    (provider,) = yaml.safe_load(_config_file(compose, grafana, provider_file).read_text())["providers"]
    dashboard_path = provider["options"]["path"]
    mounted = [entry["target"] for entry in grafana["configs"] if entry["target"].startswith(dashboard_path)]
    assert mounted, "no dashboard mounted where the provider looks"
    assert grafana["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert 3000 in _published_host_ports(grafana)


def test_dashboard_shows_throughput_latency_lag_model_and_drift_from_real_metrics(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    import json

    path = _config_file(compose, services["grafana"], "/etc/grafana/dashboards/mlops-fc.json")
    dashboard = json.loads(path.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    annotations = [item for item in dashboard["annotations"]["list"] if "expr" in item]
    assert any("mlops_fc_alerts_total" in item["expr"] for item in annotations), "no alert annotations"
    exprs += [item["expr"] for item in annotations]
    used = {name for expr in exprs for name in re.findall(r"\b(mlops_fc_[a-z_]+)", expr)}
    unknown = used - _metric_names()
    assert not unknown, f"the dashboard queries metrics the facade does not export: {sorted(unknown)}"
    titles = " ".join(panel["title"].lower() for panel in dashboard["panels"])
    for topic in ("throughput", "latency", "lag", "model version", "drift"):
        assert topic in titles, topic
    assert all(p["datasource"]["uid"] == "prometheus" for p in dashboard["panels"])


def test_dashboard_annotates_drift_promotions_rejections_and_rollbacks_from_exported_counters(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    import json

    from prometheus_client import generate_latest

    from api.metrics import ApiMetrics
    from consumers.replica import DECISIONS

    path = _config_file(compose, services["grafana"], "/etc/grafana/dashboards/mlops-fc.json")
    annotations = [a for a in json.loads(path.read_text())["annotations"]["list"] if "expr" in a]
    for item in annotations:  # what Grafana needs to draw a Prometheus annotation
        assert item["datasource"] == {"type": "prometheus", "uid": "prometheus"}, item["name"]
        assert item["enable"] is True and item["titleFormat"] and item["step"], item["name"]
        used = set(re.findall(r"\b(mlops_fc_[a-z_]+)", item["expr"]))
        assert used and used <= _metric_names(), (item["name"], used - _metric_names())
        for key in filter(None, item.get("tagKeys", "").split(",")):
            assert key in item["expr"], f"{item['name']}: tag {key} is not a label the query keeps"
    exprs = [a["expr"] for a in annotations]
    assert any("mlops_fc_drift_events" in e for e in exprs), "no drift annotation"
    # Each decision's annotation selects a label value the facade really exports.
    metrics = ApiMetrics()
    metrics.state.decision_counts = lambda: dict.fromkeys(DECISIONS.values(), 1)
    exported = set(re.findall(r'mlops_fc_model_decisions_total\{decision="(\w+)"\} 1\.0',
                              generate_latest(metrics.registry).decode()))  # fmt: skip
    for decision in ("promoted", "rejected", "rolled_back"):
        assert decision in exported
        assert any(f'mlops_fc_model_decisions_total{{decision="{decision}"}}' in e for e in exprs), decision


def test_drift_reports_written_by_the_monitor_are_served_by_the_api(
    services: dict[str, dict[str, Any]], dockerfile: list[tuple[str, str]]
) -> None:
    state_dir = _environment(services["monitor"])["MLOPS_FC_STATE_DIR"]
    mounts = {name: services[name].get("volumes", []) for name in ("monitor", "api")}
    assert f"drift-reports:{state_dir}/reports" in mounts["monitor"]
    assert f"drift-reports:{state_dir}/reports:ro" in mounts["api"]
    # A named volume takes the owner of the image's folder: the non-root user must own it.
    run = " ".join(arg for instruction, arg in dockerfile if instruction == "RUN")
    assert f"mkdir -p {state_dir}/reports" in run and f"chown -R app:app {state_dir}" in run
