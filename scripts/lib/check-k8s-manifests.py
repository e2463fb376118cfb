#!/usr/bin/env python3
"""Checks the Kubernetes manifests against the schemas and against the code they run.

usage: check-k8s-manifests.py GENERATED_SECRETS_YAML HELP_DIR MANIFEST_DIR...

HELP_DIR holds <Executable>.help (each executable's --help). Prints one line per problem and
exits 1 if there is any; "ok: N resources" otherwise.
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

secrets_file, help_dir, *manifest_dirs = sys.argv[1:]
problems = []
documents = [d for d in yaml.safe_load_all(open(secrets_file)) if d]
for directory in manifest_dirs:
    kustomization = yaml.safe_load(open(os.path.join(directory, "kustomization.yaml")))
    for resource in kustomization.get("resources", []):
        path = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(path):
            continue  # another kustomization, checked on its own
        if not os.path.exists(path):
            problems.append(f"{directory}/kustomization.yaml: {resource} does not exist")
            continue
        documents += [d for d in yaml.safe_load_all(open(path)) if d]

# 1. The API's schemas, strictly (no unknown fields).
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as out:
    yaml.safe_dump_all(documents, out)
validator = os.path.join(os.path.dirname(sys.executable), "kubernetes-validate")
result = subprocess.run([validator, "--strict", "--quiet", out.name], capture_output=True, text=True)
os.unlink(out.name)
if result.returncode != 0:
    problems += [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line]

# 2. What the manifests say against what the code reads.
def variables(executable):
    text = open(os.path.join(help_dir, executable + ".help")).read()
    return set(re.findall(r"^\s+([A-Z][A-Z0-9_]+)\b", text, re.M))

by_kind = {}
for d in documents:
    by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
secret_keys = {name: set((d.get("data") or {}).keys()) for name, d in by_kind.get("Secret", {}).items()}
config_maps = set(by_kind.get("ConfigMap", {}))
executables = {"Gateway", "AuthService", "CustomersService", "ProductsService", "natswire"}

for kind in ("Deployment", "StatefulSet"):
    for name, d in by_kind.get(kind, {}).items():
        spec = d["spec"]["template"]["spec"]
        where = f"{kind}/{name}"
        if "terminationGracePeriodSeconds" not in spec:
            problems.append(f"{where}: no terminationGracePeriodSeconds")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for v in volumes.values():
            if "secret" in v:
                secret = v["secret"]["secretName"]
                if secret not in secret_keys:
                    problems.append(f"{where}: volume {v['name']} uses a secret no one makes: {secret}")
                for item in v["secret"].get("items", []):
                    if item["key"] not in secret_keys.get(secret, set()):
                        problems.append(f"{where}: {secret} has no key {item['key']}")
            if "configMap" in v and v["configMap"]["name"] not in config_maps:
                problems.append(f"{where}: volume {v['name']} uses a config map no one makes")
        for container in spec["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    problems.append(f"{where}: {container['name']} has no {probe}")
            resources = container.get("resources", {})
            if "requests" not in resources or "memory" not in resources.get("limits", {}):
                problems.append(f"{where}: {container['name']} needs resource requests and a memory limit")
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["key"] not in secret_keys.get(ref["name"], set()):
                    problems.append(f"{where}: env {env['name']} reads {ref['name']}/{ref['key']}, which no one makes")
            command = (container.get("command") or [None])[0]
            if container["image"].split(":")[0].endswith("natswire"):
                if command not in executables:
                    problems.append(f"{where}: runs {command}, not one of the image's executables")
                    continue
                known = variables(command)
                for env in container.get("env", []):
                    if env["name"] not in known:
                        problems.append(f"{where}: {command} does not read {env['name']}")
                mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
                for env in container.get("env", []):
                    path = env.get("value", "")
                    if env["name"].endswith("_FILE") and path.startswith("/") and not any(
                        path.startswith(m + "/") for m in mounts
                    ):
                        problems.append(f"{where}: {env['name']}={path} is on no mounted volume")

nats = by_kind.get("StatefulSet", {}).get("nats")
config = by_kind.get("ConfigMap", {}).get("nats-config")
if nats and config:
    routes = re.findall(r"nats://(nats-\d+)\.nats:6222", config["data"]["nats.conf"])
    expected = [f"nats-{i}" for i in range(nats["spec"]["replicas"])]
    if sorted(routes) != expected:
        problems.append(f"nats.conf routes {routes} do not match the {nats['spec']['replicas']} StatefulSet pods")
    if "include ./auth/auth.conf" not in config["data"]["nats.conf"] or "auth.conf" not in secret_keys.get(
        "natswire-nats-auth", set()
    ):
        problems.append("nats.conf must include the generated authorization (natswire-nats-auth)")
else:
    problems.append("no NATS StatefulSet and config")

for problem in problems:
    print(problem)
if problems:
    sys.exit(1)
print(f"ok: {len(documents)} resources")
