"""The subset of `kustomize build` that deploy/k8s/ uses, so the manifests render offline.

No Python package renders kustomizations without the Go binary, and the manifests need only
a few transformers: resources (files and directories), namespace, images, replicas and
strategic-merge patches (maps merge, lists of named items merge by name, other lists are
replaced). An unknown kustomization field is an error, so a manifest that starts using
another feature fails the test instead of rendering wrongly. Where kubectl is installed,
tests/unit/test_k8s_manifests.py checks that this renders what `kubectl kustomize` does.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]
KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
CLUSTER_SCOPED = {"Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding"}


class KustomizeError(ValueError):
    """A kustomization this renderer does not understand, or a patch without a target."""


def load_documents(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def render(directory: Path) -> list[Resource]:
    """The resources `kustomize build directory` would output (in resource order)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - KNOWN_FIELDS
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        target = (directory / entry).resolve()
        resources.extend(render(target) if target.is_dir() else load_documents(target))
    for patch_entry in kustomization.get("patches", []):
        for patch in load_documents(directory / patch_entry["path"]):
            _apply_patch(resources, patch, patch_entry.get("target"), directory)
    for item in kustomization.get("replicas", []):
        for resource in _named(resources, item["name"]):
            if resource["kind"] in {"Deployment", "StatefulSet", "ReplicaSet"}:
                resource["spec"]["replicas"] = item["count"]
    for image in kustomization.get("images", []):
        for resource in resources:
            _set_image(resource, image)
    namespace = kustomization.get("namespace")
    if namespace:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource.setdefault("metadata", {})["namespace"] = namespace
    return resources


def _named(resources: list[Resource], name: str) -> list[Resource]:
    return [r for r in resources if r.get("metadata", {}).get("name") == name]


def _apply_patch(resources: list[Resource], patch: Resource, target: Any, directory: Path) -> None:
    if target:
        matches = [
            r
            for r in resources
            if r["kind"] == target.get("kind", r["kind"])
            and r["metadata"]["name"] == target.get("name", r["metadata"]["name"])
        ]
    else:
        matches = [r for r in _named(resources, patch["metadata"]["name"]) if r["kind"] == patch["kind"]]
    if not matches:
        what = f"{patch['kind']}/{patch['metadata']['name']}"
        raise KustomizeError(f"{directory}: patch {what} matches nothing")
    for resource in matches:
        body = {k: v for k, v in patch.items() if k not in {"apiVersion", "kind"}}
        if target:  # a targeted patch applies to every match, whatever name it carries
            body["metadata"] = {k: v for k, v in body.get("metadata", {}).items() if k != "name"}
        merged = strategic_merge(resource, body)
        resource.clear()
        resource.update(merged)


def strategic_merge(base: Any, patch: Any) -> Any:
    """Maps merge key by key (null deletes); lists of named maps merge by name; else replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = strategic_merge(out[key], value) if key in out else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and _all_named(base) and _all_named(patch):
        merged = copy.deepcopy(base)
        index = {item["name"]: i for i, item in enumerate(merged)}
        for item in patch:
            if item["name"] in index:
                merged[index[item["name"]]] = strategic_merge(merged[index[item["name"]]], item)
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def _all_named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def _set_image(resource: Resource, image: dict[str, str]) -> None:
    pod = resource.get("spec", {}).get("template", {}).get("spec", {})
    for container in [*pod.get("containers", []), *pod.get("initContainers", [])]:
        name, _, tag = container["image"].partition(":")
        if name == image["name"]:
            container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
