#!/usr/bin/env python3
"""Checks deploy/compose.yaml against the code it runs and the files it reads.

usage: check-compose.py COMPOSE_YAML GENERATED_DIR HELP_DIR

GENERATED_DIR stands for ./compose/generated (what scripts/compose-config.sh writes); HELP_DIR
holds <Executable>.help. Prints one line per problem, exit 1 if any; "ok: N services" else.
"""
import os
import re
import sys

import yaml

compose_file, generated, help_dir = sys.argv[1:]
root = os.path.dirname(os.path.abspath(compose_file))
compose = yaml.safe_load(open(compose_file))
problems = []


def local(path):
    path = path.split(":")[0]
    if path.startswith("./compose/generated/"):
        return os.path.join(generated, path[len("./compose/generated/"):])
    return os.path.normpath(os.path.join(root, path))


def variables(executable):
    text = open(os.path.join(help_dir, executable + ".help")).read()
    return set(re.findall(r"^\s+([A-Z][A-Z0-9_]+)\b", text, re.M))


secrets = compose.get("secrets", {})
for name, secret in secrets.items():
    if not os.path.exists(local(secret["file"])):
        problems.append(f"secret {name}: {secret['file']} is not made by scripts/compose-config.sh")
for name, service in compose["services"].items():
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith(".") and not os.path.exists(local(source)):
            problems.append(f"{name}: mounts {source}, which does not exist")
    env_files = service.get("env_file", [])
    env_files = [env_files] if isinstance(env_files, str) else env_files
    environment = dict(service.get("environment", {}))
    for file in env_files:
        path = local(file)
        if not os.path.exists(path):
            problems.append(f"{name}: env file {file} is not made by scripts/compose-config.sh")
            continue
        for line in open(path):
            if "=" in line:
                environment[line.split("=", 1)[0].strip()] = line.split("=", 1)[1].strip()
    for dependency in service.get("depends_on", {}):
        if dependency not in compose["services"]:
            problems.append(f"{name}: depends on {dependency}, which is not a service")
    if "healthcheck" not in service:
        problems.append(f"{name}: no healthcheck")
    if not service.get("image", "").split(":")[0].endswith("/natswire"):
        continue
    command = (service.get("command") or [None])[0]
    known = variables(command) if command in {"Gateway", "AuthService", "CustomersService", "ProductsService"} else None
    if known is None:
        problems.append(f"{name}: runs {command}, not one of the image's executables")
        continue
    for variable in environment:
        if variable not in known:
            problems.append(f"{name}: {command} does not read {variable}")
    seed = environment.get("NATS_NKEY_SEED_FILE", "")
    mounted = ["/run/secrets/" + s for s in service.get("secrets", [])]
    if seed not in mounted:
        problems.append(f"{name}: NATS_NKEY_SEED_FILE={seed} is not one of its secrets {mounted}")
    if any(s not in secrets for s in service.get("secrets", [])):
        problems.append(f"{name}: uses a secret the file does not declare")
    if environment.get("HEALTH_FILE") and "/tmp" not in service.get("tmpfs", []):
        problems.append(f"{name}: HEALTH_FILE needs a writable /tmp")

for problem in problems:
    print(problem)
if problems:
    sys.exit(1)
print(f"ok: {len(compose['services'])} services")
