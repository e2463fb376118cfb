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
"""
import base64
import os
import sys

import yaml

HEALTH_CHECK = "test $(( $(date +%s) - $(stat -c %Y /tmp/healthy 2>/dev/null || echo 0) )) -lt 60"

args = sys.argv[1:]
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
