"""deploy/k8s renders, validates offline and agrees with the code it is generated from.

Each overlay is rendered (tests/unit/kustomize_lite.py), every core resource is validated
against the Kubernetes OpenAPI schemas that kubernetes-validate ships, and the Strimzi and
KEDA resources, which it has no schema for, are checked by hand for what their operators
require. The rest ties the manifests to the code: settings, ports, partitions, commands.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer.main
import yaml
from pydantic import SecretStr

from cli.main import app
from schemas.topics import CATALOGUE, PREDICTIONS_REQUESTS
from stack import manifests
from stack.settings import Settings
from tests.unit.kustomize_lite import KustomizeError, render, strategic_merge

K8S = manifests.K8S_DIR
OVERLAYS = ("local", "production")
KUBERNETES_VERSION = "1.33"  # a supported release: validate against its API
CORE_GROUPS = ("v1", "apps/", "batch/", "policy/")
WORKLOADS = {"Deployment", "Job"}

Resource = dict[str, Any]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Resource]]:
    return request.param, render(K8S / "overlays" / request.param)


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def config(resources: list[Resource]) -> dict[str, str]:
    data: dict[str, str] = one(resources, "ConfigMap", manifests.CONFIG_MAP_NAME)["data"]
    return data


def containers(resource: Resource) -> list[Resource]:
    pod = resource["spec"]["template"]["spec"]
    return [*pod.get("containers", []), *pod.get("initContainers", [])]


def ours(resource: Resource) -> bool:
    """A workload running the project's image (the overlay's Redis and MLflow are not)."""
    return any("mlops-fc-stream" in c["image"] for c in containers(resource))


def setting_names() -> set[str]:
    return {manifests.env_name(name) for name in Settings.model_fields}


# --- generated files --------------------------------------------------------------------


def test_generated_files_match_the_code() -> None:
    behind = manifests.stale(manifests.topic_files() + manifests.settings_files())
    assert not behind, f"run `mlops-fc deploy topics` and `mlops-fc deploy settings`: {behind}"


def test_the_staleness_check_sees_a_change(tmp_path: Path) -> None:
    files = manifests.topic_files(tmp_path)
    assert manifests.stale(files) == [files[0].path]
    manifests.write(files)
    assert manifests.stale(files) == []
    files[0].path.write_text(files[0].text.replace("partitions: 4", "partitions: 8"), encoding="utf-8")
    assert manifests.stale(files) == [files[0].path]


def test_kafka_topics_are_the_catalogue() -> None:
    topics = {t["spec"]["topicName"]: t for t in render(K8S / "strimzi-topics")}
    assert set(topics) == {spec.name for spec in CATALOGUE}
    for spec in CATALOGUE:
        topic = topics[spec.name]
        assert topic["spec"]["partitions"] == (spec.partitions or Settings.model_construct().topic_partitions)
        for key, value in spec.configs().items():
            assert topic["spec"]["config"][key] == value
    assert topics["transfers.completed"]["spec"]["config"]["retention.ms"] == "-1"  # kept forever


def test_config_map_holds_every_setting_and_no_secret() -> None:
    data = config(render(K8S / "base"))
    secrets = {manifests.env_name(name) for name in manifests.secret_fields()}
    assert secrets == {
        "MLOPS_FC_KAFKA_SASL_PASSWORD",
        "MLOPS_FC_REDIS_PASSWORD",
        "MLOPS_FC_MODEL_SIGNING_KEY",
        "MLOPS_FC_API_KEY",
    }
    assert set(data) == setting_names() - secrets
    local_secret = one(render(K8S / "overlays" / "local"), "Secret", manifests.SECRET_NAME)
    assert set(local_secret["stringData"]) == secrets


def test_each_overlay_configures_valid_settings(
    rendered: tuple[str, list[Resource]], monkeypatch: pytest.MonkeyPatch
) -> None:
    overlay, resources = rendered
    env = dict(config(resources))
    if overlay == "local":
        env.update(one(resources, "Secret", manifests.SECRET_NAME)["stringData"])
    else:  # production holds no Secret: the operator creates it, with real values
        real = "q8V1zK3mT0pR7wYx2cN5bL9dF4hJ6gA"  # shaped like secrets.token_urlsafe
        env.update(
            {"MLOPS_FC_MODEL_SIGNING_KEY": real, "MLOPS_FC_API_KEY": real, "MLOPS_FC_REDIS_PASSWORD": real}
        )
        assert not [r for r in resources if r["kind"] == "Secret"]
    for name in list(Settings.model_fields):
        monkeypatch.delenv(manifests.env_name(name), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.environment == ("development" if overlay == "local" else "production")
    assert settings.worker_metrics_port > 0 and settings.api_port > 0


# --- offline validation -----------------------------------------------------------------


def test_every_core_resource_validates_against_the_kubernetes_schemas(
    rendered: tuple[str, list[Resource]],
) -> None:
    _, resources = rendered
    core = [r for r in resources if r["apiVersion"].startswith(CORE_GROUPS)]
    assert {r["kind"] for r in core} >= {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"}
    for resource in core:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_can_fail() -> None:
    deployment = one(render(K8S / "base"), "Deployment", "worker")
    broken = strategic_merge(deployment, {"spec": {"replicas": "two"}})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_strimzi_topics_have_what_the_topic_operator_requires() -> None:
    for topic in render(K8S / "overlays" / "production"):
        if topic["kind"] != "KafkaTopic":
            continue
        assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == manifests.STRIMZI_CLUSTER
        name = topic["metadata"]["name"]
        assert name == name.lower() and len(name) <= 253 and name.replace(".", "").replace("-", "").isalnum()
        spec = topic["spec"]
        assert isinstance(spec["topicName"], str) and spec["topicName"]
        assert isinstance(spec["partitions"], int) and spec["partitions"] >= 1
        assert isinstance(spec["replicas"], int) and 1 <= spec["replicas"] <= 32767
        assert int(spec["config"]["min.insync.replicas"]) < spec["replicas"]  # one broker may go
        assert all(isinstance(value, str | int | bool) for value in spec["config"].values())


def test_keda_scales_the_workers_on_their_lag_capped_at_the_partitions() -> None:
    resources = render(K8S / "overlays" / "production")
    scaled = one(resources, "ScaledObject", "worker")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    one(resources, "Deployment", spec["scaleTargetRef"]["name"])
    data = config(resources)
    partitions = PREDICTIONS_REQUESTS.partitions or int(data["MLOPS_FC_TOPIC_PARTITIONS"])
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions
    [trigger] = spec["triggers"]
    prefix = data["MLOPS_FC_TOPIC_PREFIX"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["bootstrapServers"] == data["MLOPS_FC_KAFKA_BOOTSTRAP_SERVERS"]
    assert trigger["metadata"]["consumerGroup"] == prefix + data["MLOPS_FC_WORKER_APP_ID"]
    assert trigger["metadata"]["topic"] == prefix + PREDICTIONS_REQUESTS.name
    assert trigger["metadata"]["allowIdleConsumers"] == "false"
    assert int(trigger["metadata"]["lagThreshold"]) > 0


# --- manifests and code agree ------------------------------------------------------------


def test_every_image_is_pinned(rendered: tuple[str, list[Resource]]) -> None:
    _, resources = rendered
    version = _project_version()
    for resource in resources:
        if resource["kind"] not in WORKLOADS:
            continue
        for container in containers(resource):
            name, _, tag = container["image"].rpartition(":")
            assert name and tag and tag != "latest" and "/" not in tag, container["image"]
            if "mlops-fc-stream" in name:
                assert tag == version, f"{container['image']}: the project's image is tagged {version}"


def _project_version() -> str:
    import tomllib

    text = (manifests.PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version: str = tomllib.loads(text)["project"]["version"]
    return version


def test_every_env_var_is_a_real_setting(rendered: tuple[str, list[Resource]]) -> None:
    _, resources = rendered
    assert set(config(resources)) <= setting_names()
    for secret in (r for r in resources if r["kind"] == "Secret"):
        assert set(secret.get("stringData", {})) | set(secret.get("data", {})) <= setting_names()
    for resource in filter(ours, (r for r in resources if r["kind"] in WORKLOADS)):
        for container in containers(resource):
            names = {item["name"] for item in container.get("env", [])}
            assert names <= setting_names(), f"{resource['metadata']['name']}: {names - setting_names()}"
            refs = container["envFrom"]
            assert {"configMapRef": {"name": manifests.CONFIG_MAP_NAME}} in refs
            assert {"secretRef": {"name": manifests.SECRET_NAME}} in refs


def _port(container: Resource, probe: Resource) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    [number] = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


@pytest.mark.parametrize(
    ("deployment", "setting", "paths"),
    [
        ("worker", "MLOPS_FC_WORKER_METRICS_PORT", {"/metrics"}),
        ("api", "MLOPS_FC_API_PORT", {"/readyz", "/healthz"}),
    ],
)
def test_probes_use_the_services_port_setting(
    rendered: tuple[str, list[Resource]], deployment: str, setting: str, paths: set[str]
) -> None:
    _, resources = rendered
    port = int(config(resources)[setting])
    [container] = containers(one(resources, "Deployment", deployment))
    probes = [container[k] for k in ("startupProbe", "readinessProbe", "livenessProbe") if k in container]
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    assert {p["httpGet"]["path"] for p in probes} == paths
    assert all(_port(container, probe) == port for probe in probes)
    if deployment == "api":
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    annotations = one(resources, "Deployment", deployment)["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == port


def test_worker_replicas_never_exceed_the_request_partitions(rendered: tuple[str, list[Resource]]) -> None:
    _, resources = rendered
    partitions = PREDICTIONS_REQUESTS.partitions or int(config(resources)["MLOPS_FC_TOPIC_PARTITIONS"])
    worker = one(resources, "Deployment", "worker")
    assert 1 <= worker["spec"]["replicas"] <= partitions
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0  # nor during a rollout


def test_monitor_and_retrainer_run_alone(rendered: tuple[str, list[Resource]]) -> None:
    _, resources = rendered
    for name in ("monitor", "retrainer"):
        deployment = one(resources, "Deployment", name)
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert one(resources, "Deployment", "api")["spec"]["replicas"] >= 1


def test_disruption_budgets_select_a_deployment(rendered: tuple[str, list[Resource]]) -> None:
    _, resources = rendered
    budgets = [r for r in resources if r["kind"] == "PodDisruptionBudget"]
    assert {b["metadata"]["name"] for b in budgets} >= {"worker", "api", "sink"}
    pod_labels = [r["spec"]["template"]["metadata"]["labels"] for r in resources if r["kind"] == "Deployment"]
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        matching = [labels for labels in pod_labels if selector.items() <= labels.items()]
        assert matching, f"PodDisruptionBudget {budget['metadata']['name']} selects no pods"


def test_every_container_has_requests_and_limits(rendered: tuple[str, list[Resource]]) -> None:
    _, resources = rendered
    for resource in (r for r in resources if r["kind"] in WORKLOADS):
        for container in containers(resource):
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), resource["metadata"]["name"]


def _cli_paths() -> set[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: set[tuple[str, ...]] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)  # a group (typer ships its own click)
        if subcommands is None:
            found.add(path)
        for name, sub in (subcommands or {}).items():
            walk(sub, (*path, name))

    walk(root, ())
    return found


def test_commands_are_mlops_fc_commands(rendered: tuple[str, list[Resource]]) -> None:
    _, resources = rendered
    commands = _cli_paths()
    services = set()
    for resource in filter(ours, (r for r in resources if r["kind"] in WORKLOADS)):
        for container in containers(resource):
            program, *args = container["command"]
            assert program == "mlops-fc"
            assert any(tuple(args[: len(path)]) == path for path in commands), container["command"]
            services.add(" ".join(args))
    assert {"worker", "api", "sink", "monitor", "retrainer"} <= services


def test_secrets_stay_out_of_the_config_map() -> None:
    defaults = Settings.model_construct()
    for name in manifests.secret_fields():
        assert isinstance(getattr(defaults, name), SecretStr | None)
    text = (K8S / "base" / "config.yaml").read_text(encoding="utf-8")
    assert "dev-only-change-me" not in text and "SIGNING_KEY" not in text


# --- the renderer ------------------------------------------------------------------------


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": [], "configMapGenerator": []}))
    with pytest.raises(KustomizeError, match="configMapGenerator"):
        render(tmp_path)


def _key(resource: Resource) -> tuple[str, str, str]:
    meta = resource["metadata"]
    return resource["kind"], meta.get("namespace", ""), meta["name"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) is not installed here")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_renderer_agrees_with_kubectl_kustomize(overlay: str) -> None:
    directory = K8S / "overlays" / overlay
    output = subprocess.run(
        ["kubectl", "kustomize", str(directory)], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    theirs = {_key(r): r for r in yaml.safe_load_all(output) if r}
    mine = {_key(r): r for r in render(directory)}
    assert theirs.keys() == mine.keys()
    for key, resource in mine.items():
        assert resource == theirs[key], key
