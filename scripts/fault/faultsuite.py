#!/usr/bin/env python3
"""The fault suite's driver: a mixed HTTP load on the gateway while faults are injected into
the running stack, then a check of every acknowledged write against the databases.

Run by scripts/fault-suite.sh, which starts the stack and exports its environment (STATE,
ports, BIN). Faults are done with the stack's own shell functions (scripts/lib/stack.sh).

For each case the table says: requests sent, succeeded, failed (and how: 503, 504, other),
the slowest failed answer (a hang would show here), acknowledged writes and how many of them
are in the database afterwards, and the recovery time: from the end of the fault to the last
failed request.
"""

import http.client
import itertools
import json
import os
import random
import string
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE = os.environ["STATE"]
HTTP_PORT = int(os.environ["HTTP_PORT"])
PG_PORT = int(os.environ["PG_PORT"])
MONGO_PORT = int(os.environ["MONGO_PORT"])
WORKERS = int(os.environ.get("FAULT_WORKERS", "8"))
BEFORE = float(os.environ.get("FAULT_BEFORE_S", "3"))
DURING = float(os.environ.get("FAULT_DURING_S", "3"))
AFTER = float(os.environ.get("FAULT_AFTER_S", "6"))
CLIENT_TIMEOUT = 30.0


def stack(command):
    """Runs `command` in bash with the stack's functions loaded."""
    script = f'source "{ROOT}/scripts/lib/stack.sh"; {command}'
    subprocess.run(["bash", "-c", script], check=True, cwd=ROOT)


def pid_of(name):
    with open(os.path.join(STATE, f"{name}.pid")) as f:
        return int(f.read().strip())


def kill9(name):
    os.kill(pid_of(name), 9)
    time.sleep(0.2)
    os.remove(os.path.join(STATE, f"{name}.pid"))


class Client:
    """One keep-alive HTTP connection to the gateway."""

    def __init__(self, token=None):
        self.token = token
        self.conn = None

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = json.dumps(body) if body is not None else None
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=CLIENT_TIMEOUT)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                return response.status, payload
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    return 0, b""
        return 0, b""


# Customer ids are 5 characters: base 36 of a counter from a random start, so a run never
# picks the same id twice (a duplicate would be a 409 that has nothing to do with faults).
_customer_ids = itertools.count(random.randrange(36**4, 36**5 - 10**6))
_customer_lock = threading.Lock()


def random_customer_id():
    with _customer_lock:
        n = next(_customer_ids)
    digits = string.digits + string.ascii_uppercase
    text = ""
    while n:
        n, r = divmod(n, 36)
        text = digits[r] + text
    return text.rjust(5, "0")


class Load:
    """WORKERS threads, each doing a random mix of reads and writes until stopped."""

    def __init__(self, token):
        self.token = token
        self.lock = threading.Lock()
        self.records = []  # (start, end, kind, status)
        self.acked = {"product": [], "customer": [], "user": []}
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(WORKERS)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def worker(self):
        client = Client(self.token)
        while not self.stopping.is_set():
            roll = random.random()
            started = time.monotonic()
            acked = None
            if roll < 0.35:
                kind = "get product"
                status, _ = client.call("GET", f"/products/{random.randint(1, 77)}")
            elif roll < 0.55:
                kind = "list customers"
                status, _ = client.call("GET", "/customers?limit=5")
            elif roll < 0.75:
                kind = "create product"
                status, body = client.call(
                    "POST", "/products", {"product_name": "fault-" + uuid.uuid4().hex[:12], "unit_price": 1.5}
                )
                if status == 201:
                    acked = ("product", json.loads(body)["product_id"])
            elif roll < 0.92:
                kind = "create customer"
                customer_id = random_customer_id()
                status, _ = client.call(
                    "POST", "/customers", {"customer_id": customer_id, "company_name": "Fault Test"}
                )
                if status == 201:
                    acked = ("customer", customer_id)
            else:
                kind = "register"
                email = f"fault-{uuid.uuid4().hex[:12]}@example.com"
                status, _ = client.call(
                    "POST", "/auth/register", {"username": "fault", "email": email, "password": "secret-pass-1"}
                )
                if status == 201:
                    acked = ("user", email)
            ended = time.monotonic()
            with self.lock:
                self.records.append((started, ended, kind, status))
                if acked:
                    self.acked[acked[0]].append(acked[1])


def login_token():
    client = Client()
    email = f"fault-load-{uuid.uuid4().hex[:8]}@example.com"
    status, body = client.call(
        "POST", "/auth/register", {"username": "load", "email": email, "password": "secret-pass-1"}
    )
    if status != 201:
        sys.exit(f"cannot register the load user: {status} {body[:200]!r}")
    status, body = client.call("POST", "/auth/login", {"email": email, "password": "secret-pass-1"})
    if status != 200:
        sys.exit(f"cannot log in the load user: {status} {body[:200]!r}")
    return json.loads(body)["access_token"]


def psql(query):
    secret = open(os.path.join(STATE, "secrets", "postgres-superuser")).read().strip()
    env = dict(os.environ, PGPASSWORD=secret)
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", "northwind", "-tA", "-c", query],
        check=True, capture_output=True, text=True, env=env,
    )
    return out.stdout.strip()


def found_in_databases(acked):
    """How many acknowledged writes the databases hold now."""
    found = 0
    if acked["product"]:
        ids = ",".join(str(int(i)) for i in acked["product"])
        found += int(psql(f"SELECT count(*) FROM products WHERE product_id IN ({ids})"))
    if acked["customer"]:
        ids = ",".join("'" + c + "'" for c in acked["customer"])
        found += int(psql(f"SELECT count(*) FROM customers WHERE customer_id IN ({ids})"))
    if acked["user"]:
        sys.path.insert(0, "")
        from pymongo import MongoClient  # from the SecantusDB venv

        client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}/", serverSelectionTimeoutMS=5000)
        database = client["auth"]
        found += database["users"].count_documents({"email": {"$in": acked["user"]}})
    return found


def wait_ready(timeout=30):
    end = time.monotonic() + timeout
    client = Client()
    while time.monotonic() < end:
        status, _ = client.call("GET", "/ready")
        if status == 200:
            return True
        time.sleep(0.1)
    return False


CASES = {
    "nats-server killed and restarted": (
        lambda: kill9("nats-server"),
        lambda: stack("start_nats_node 0"),
    ),
    "cluster: the gateway's node killed": (
        lambda: kill9("nats-server"),
        lambda: stack("start_nats_node 0"),
    ),
    "one of two ProductsService killed": (
        lambda: kill9("ProductsService-2"),
        lambda: stack("start_products_replica"),
    ),
    "PostgreSQL restarted": (
        lambda: stack("stop_postgres"),
        lambda: stack("start_postgres"),
    ),
    "document store restarted": (
        lambda: kill9("docstore"),
        lambda: stack("start_docstore"),
    ),
}


def run_case(name, token):
    inject, repair = CASES[name]
    if not wait_ready():
        return {"case": name, "error": "the system was not ready before the fault"}
    load = Load(token)
    load.start()
    time.sleep(BEFORE)
    fault_start = time.monotonic()
    inject()
    time.sleep(DURING)
    repair()
    fault_end = time.monotonic()
    time.sleep(AFTER)
    load.stop()

    records = load.records
    failed = [r for r in records if not (200 <= r[3] < 300)]
    statuses = {}
    for r in failed:
        statuses[r[3]] = statuses.get(r[3], 0) + 1
    acked_total = sum(len(v) for v in load.acked.values())
    found = found_in_databases(load.acked)
    # Requests sent after the fault ended that still failed: the time until the last of them.
    late = [r[0] for r in failed if r[0] >= fault_end]
    recovery = max(late) - fault_end if late else 0.0
    slowest_failure = max((r[1] - r[0] for r in failed), default=0.0)
    return {
        "case": name,
        "sent": len(records),
        "succeeded": len(records) - len(failed),
        "failed": len(failed),
        "failed_by_status": {str(k): v for k, v in sorted(statuses.items())},
        "slowest_failed_s": round(slowest_failure, 2),
        "acked_writes": acked_total,
        "acked_found": found,
        "lost": acked_total - found,
        "fault_s": round(fault_end - fault_start, 2),
        "recovery_s": round(recovery, 2),
        "failed_by_kind": {
            kind: {str(st): sum(1 for r in failed if r[2] == kind and r[3] == st) for st in sorted({r[3] for r in failed if r[2] == kind})}
            for kind in sorted({r[2] for r in failed})
        },
    }


def print_table(results):
    header = (
        "| case | sent | succeeded | failed (by status) | slowest failed answer | acked writes | "
        "found in DB | lost | fault | recovery after fault |"
    )
    print(header)
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if "error" in r:
            print(f"| {r['case']} | {r['error']} |")
            continue
        by = ", ".join(f"{k}: {v}" for k, v in r["failed_by_status"].items()) or "-"
        print(
            f"| {r['case']} | {r['sent']} | {r['succeeded']} | {r['failed']} ({by}) | {r['slowest_failed_s']} s | "
            f"{r['acked_writes']} | {r['acked_found']} | {r['lost']} | {r['fault_s']} s | {r['recovery_s']} s |"
        )


def main():
    if sys.argv[1:2] == ["--table"]:
        with open(sys.argv[2]) as f:
            results = [json.loads(line) for line in f if line.strip()]
        print_table(results)
        return verdict(results)
    cases = sys.argv[1:] or list(CASES)
    if not wait_ready():
        sys.exit("the gateway is not ready")
    token = login_token()
    results = []
    for name in cases:
        print(f"[fault-suite] {name} ...", file=sys.stderr, flush=True)
        results.append(run_case(name, token))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    out = os.environ.get("FAULT_RESULTS")
    if out:
        with open(out, "a") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    print_table(results)
    return verdict(results)


def verdict(results):
    """0 when every goal holds: nothing acknowledged lost, failures answered within the
    gateway's timeout (5 s, plus scheduling slack), recovered within 2 s of the fault's end."""
    bad = [r for r in results if "error" in r or r["lost"] > 0 or r["slowest_failed_s"] > 6 or r["recovery_s"] > 2]
    for r in bad:
        print(f"[fault-suite] goal missed: {r['case']}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
