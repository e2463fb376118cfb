#!/usr/bin/env python3
"""The gateway's and services' Deployments of deploy/kubernetes/base, made playable by
podman 4.3's `podman kube play` on one host (what scripts/container-smoke.sh runs):

- host network (NATS, PostgreSQL and the document store run on the host);
- secret values given inline and secret volumes as host paths (podman 4.3 crashes on
  secret volumes and has no kubectl to make Secrets);
- one replica each (podman plays one pod per Deployment); --suffix makes another copy;
- the gateway's HTTP liveness probe reads its health file instead (podman would run curl,
  which the image has not), and `sh -c` probes are given as the script podman runs.

usage: kube-play-variant.py BASE_DIR SECRETS_YAML SEEDS_DIR IMAGE NATS_URL HTTP_PORT [NAME...]
                             [--suffix S]

With `stateful-pod`, one pod of a StatefulSet instead (podman 4.3 has no StatefulSet): the
pod `NAME-INDEX` of the template in MANIFEST (the NATS cluster of deploy/kubernetes/base,
the evaluation databases of deploy/kubernetes/evaluation), to be played on a network where
it has the aliases `NAME-INDEX.NAME` and `NAME` (what the headless Service gives in
Kubernetes). ConfigMaps (from MANIFEST or SECRETS_YAML), secret volumes and the
PersistentVolumeClaim become files and folders under WORK_DIR/NAME-INDEX (host paths); secret
environment values and the downward-API POD_NAME their values; httpGet and tcpSocket probes a
bash script (podman runs httpGet probes with curl, which the images lack).

usage: kube-play-variant.py stateful-pod MANIFEST SECRETS_YAML WORK_DIR IMAGE INDEX
"""
import base64
import os
import sys

import yaml

HEALTH_CHECK = "test $(( $(date +%s) - $(stat -c %Y /tmp/healthy 2>/dev/null || echo 0) )) -lt 60"

def http_probe(get):
    """An httpGet probe as a shell line: 200 from the path on localhost, through bash's
    /dev/tcp (podman runs a probe's line with /bin/sh, which is dash)."""
    port = get["port"]
    request = f"GET {get.get('path', '/')} HTTP/1.0\\r\\n\\r\\n"
    return (
        f"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{PORTS.get(port, port)} && "
        f'printf "{request}" >&3 && head -1 <&3 | grep -q " 200 "\''
    )


def tcp_probe(socket):
    """A tcpSocket probe as a shell line: a connection to the port on localhost."""
    port = socket["port"]
    return f"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{PORTS.get(port, port)}'"


def stateful_pod(manifest, secrets, config_maps, work, image, index):
    manifests = [d for d in yaml.safe_load_all(open(manifest)) if d]
    for d in manifests:
        if d["kind"] == "ConfigMap":
            config_maps[d["metadata"]["name"]] = d["data"]
    statefulset = next(d for d in manifests if d["kind"] == "StatefulSet")
    name = f"{statefulset['metadata']['name']}-{index}"
    node = os.path.join(work, name)
    template = statefulset["spec"]["template"]
    spec = template["spec"]
    paths = {}
    for volume in spec.get("volumes", []):
        source = volume.get("configMap", {}).get("name") or volume.get("secret", {}).get("secretName")
        if source is None:
            continue
        files = config_maps[source] if "configMap" in volume else secrets[source]
        folder = os.path.join(node, volume["name"])
        os.makedirs(folder, exist_ok=True)
        for key, text in files.items():
            with open(os.path.join(folder, key), "w") as out:
                out.write(text)
        paths[volume["name"]] = folder
    for claim in statefulset["spec"].get("volumeClaimTemplates", []):
        folder = os.path.join(node, claim["metadata"]["name"])
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o777)  # whatever user the image runs as owns its volume in Kubernetes
        paths[claim["metadata"]["name"]] = folder
    volumes = []
    for container in spec["containers"]:
        container["image"] = image
        # Reached on the pods' network; podman would also publish each one on the host.
        for port in container.pop("ports", []):
            PORTS[port["name"]] = port["containerPort"]
        for env in container.get("env", []):
            source = env.get("valueFrom", {})
            if source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
                env.pop("valueFrom")
                env["value"] = name
            elif "secretKeyRef" in source:
                ref = env.pop("valueFrom")["secretKeyRef"]
                env["value"] = secrets[ref["name"]][ref["key"]]
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = container.get(kind, {})
            if "httpGet" in probe:
                probe["exec"] = {"command": [http_probe(probe.pop("httpGet"))]}
            elif "tcpSocket" in probe:
                probe["exec"] = {"command": [tcp_probe(probe.pop("tcpSocket"))]}
        container.pop("readinessProbe", None)  # podman plays liveness only
        mounts = []
        for mount in container.get("volumeMounts", []):
            host = paths.get(mount["name"])
            if host is None:
                mounts.append(mount)  # emptyDir: podman makes it
                continue
            if "subPath" in mount:
                host = os.path.join(host, mount.pop("subPath"))
            volume = f"{mount['name']}-{len(volumes)}"
            volumes.append({"name": volume, "hostPath": {"path": host}})
            mounts.append({**mount, "name": volume})
        container["volumeMounts"] = mounts
    spec["volumes"] = [v for v in spec.get("volumes", []) if "emptyDir" in v] + volumes
    spec["hostname"] = name
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": template["metadata"]["labels"]},
        "spec": spec,
    }
    yaml.safe_dump(pod, sys.stdout, sort_keys=False)


PORTS = {}
args = sys.argv[1:]
if args and args[0] == "stateful-pod":
    _, manifest, secrets_file, work, image, index = args
    secrets, config_maps = {}, {}
    for d in yaml.safe_load_all(open(secrets_file)):
        if d and d["kind"] == "Secret":
            secrets[d["metadata"]["name"]] = {k: base64.b64decode(v).decode() for k, v in d["data"].items()}
        elif d and d["kind"] == "ConfigMap":
            config_maps[d["metadata"]["name"]] = d["data"]
    stateful_pod(manifest, secrets, config_maps, work, image, int(index))
    sys.exit(0)
suffix = ""
if "--suffix" in args:
    at = args.index("--suffix")
    suffix = args[at + 1]
    del args[at : at + 2]
base, secrets_file, seeds, image, nats_url, http_port, *names = args
secrets = {}
for d in yaml.safe_load_all(open(secrets_file)):
    if d and d["kind"] == "Secret":
        secrets[d["metadata"]["name"]] = {k: base64.b64decode(v).decode() for k, v in d["data"].items()}

out = []
for file in ("gateway.yaml", "auth.yaml", "customers.yaml", "products.yaml"):
    for d in yaml.safe_load_all(open(os.path.join(base, file))):
        if not d or d["kind"] != "Deployment":
            continue
        name = d["metadata"]["name"]
        if names and name not in names:
            continue
        d["metadata"]["name"] = name + suffix
        d["spec"]["replicas"] = 1
        spec = d["spec"]["template"]["spec"]
        spec["hostNetwork"] = True
        spec.pop("securityContext", None)  # the image's user (10001) stays
        for container in spec["containers"]:
            container["image"] = image
            container.pop("startupProbe", None)
            container.pop("readinessProbe", None)
            if container.get("livenessProbe", {}).get("httpGet"):
                # podman runs an httpGet probe with curl inside the container, which the image
                # does not have: the gateway's probe reads its HEALTH_FILE (set by the image).
                container["livenessProbe"].pop("httpGet")
                container["livenessProbe"]["exec"] = {"command": ["sh", "-c", HEALTH_CHECK]}
            # podman 4.3 turns an exec probe into a shell health check by joining its words
            # with spaces, so `sh -c "script"` would run `sh -c test ...`: give it the script.
            probe = container.get("livenessProbe", {}).get("exec")
            if probe and probe["command"][:2] == ["sh", "-c"]:
                probe["command"] = [probe["command"][2]]
            container.pop("securityContext", None)
            container.pop("ports", None)  # on the host network already
            for env in container.get("env", []):
                if env["name"] == "NATS_URL":
                    env["value"] = nats_url
                if env["name"] == "HTTP_PORT":
                    env["value"] = http_port
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    env.pop("valueFrom")
                    env["value"] = secrets[ref["name"]][ref["key"]]
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                volume.pop("secret")
                volume["hostPath"] = {"path": seeds, "type": "Directory"}
        out.append(d)
yaml.safe_dump_all(out, sys.stdout, sort_keys=False)
