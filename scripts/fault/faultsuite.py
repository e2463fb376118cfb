#!/usr/bin/env python3
"""The fault suite's driver: a mixed HTTP load on the gateway while faults are injected into
the running stack, then a check of every acknowledged write against the databases.

Run by scripts/fault-suite.sh, which starts the stack and exports its environment (STATE,
ports, BIN). Faults are done with the stack's own shell functions (scripts/lib/stack.sh).

For each case the table says: requests sent, succeeded, failed (and how: 503, 504, other),
the slowest failed answer (a hang would show here), acknowledged writes and how many of them
are in the database afterwards, and the recovery time: from the end of the fault to the last
failed request. The events column checks the EVENTS stream against the writes: every
acknowledged product, customer and user create has exactly one created (registered) event
(missing, duplicates), no such event names a record that is not in the database (phantom),
and the relay lag: how long after the load stopped the outboxes were empty.
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
RETRIES = int(os.environ.get("FAULT_RETRIES", "3"))


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

    def call(self, method, path, body=None, extra=None):
        headers = {"Content-Type": "application/json", **(extra or {})}
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
                status, body = self.keyed_write(
                    client, "/products", {"product_name": "fault-" + uuid.uuid4().hex[:12], "unit_price": 1.5}
                )
                if status == 201:
                    acked = ("product", json.loads(body)["product_id"])
            elif roll < 0.92:
                kind = "create customer"
                customer_id = random_customer_id()
                status, _ = self.keyed_write(
                    client, "/customers", {"customer_id": customer_id, "company_name": "Fault Test"}
                )
                if status == 201:
                    acked = ("customer", customer_id)
            else:
                kind = "register"
                email = f"fault-{uuid.uuid4().hex[:12]}@example.com"
                status, _ = self.keyed_write(
                    client, "/auth/register", {"username": "fault", "email": email, "password": "secret-pass-1"}
                )
                if status == 201:
                    acked = ("user", email)
            ended = time.monotonic()
            with self.lock:
                self.records.append((started, ended, kind, status))
                if acked:
                    self.acked[acked[0]].append(acked[1])


    def keyed_write(self, client, path, body):
        """A create with an Idempotency-Key, sent again with the same key while it fails with
        5xx or no answer (at most RETRIES more times, a second apart): a write the service made
        although the client saw a failure must not be made twice. Every failed attempt is
        recorded as a failed request."""
        key = str(uuid.uuid4())
        for attempt in range(RETRIES + 1):
            started = time.monotonic()
            status, payload = client.call("POST", path, body, {"Idempotency-Key": key})
            if (status != 0 and status < 500) or attempt == RETRIES or self.stopping.is_set():
                return status, payload
            with self.lock:
                self.records.append((started, time.monotonic(), "create (failed attempt, retried)", status))
            time.sleep(1)
        return status, payload


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


def natswire(*arguments, timeout=60):
    """The natswire CLI as the admin user of the stack's NATS."""
    command = [os.path.join(os.environ["BIN"], "natswire"), "--server", f"nats://127.0.0.1:{os.environ['NATS_PORT']}"]
    seed = os.path.join(STATE, "secrets", "nats-admin.nk")
    if os.path.exists(seed):
        command += ["--nkey", seed]
    return subprocess.run(command + list(arguments), capture_output=True, text=True, timeout=timeout)


def events_last_sequence():
    out = natswire("stream", "info", "EVENTS").stdout
    for line in out.splitlines():
        if "sequences" in line:
            return int(line.split("sequences", 1)[1].split("...", 1)[1].split(",")[0].strip() or 0)
    return 0


def read_events(after):
    """The events stored after sequence `after`: (subject, event) in stream order."""
    last = events_last_sequence()
    if last <= after:
        return []
    out = natswire("stream", "follow", "EVENTS", "--from", str(after + 1), "--count", str(last - after)).stdout
    events = []
    for line in out.splitlines():
        if not line.startswith("#"):
            continue
        _, subject, payload = line.split(" ", 2)
        events.append((subject.strip("[]"), json.loads(payload)))
    return events


def outbox_lag(timeout=60):
    """Seconds until both outboxes are empty (None if they are not within `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            left = int(psql("SELECT (SELECT count(*) FROM products_outbox) + (SELECT count(*) FROM customers_outbox)"))
            left += pending_registrations()
        except Exception:
            left = -1
        if left == 0:
            return round(time.monotonic() - started, 2)
        time.sleep(0.1)
    return None


def pending_registrations():
    """Users whose registered event the auth relay has not published yet."""
    from pymongo import MongoClient  # from the SecantusDB venv

    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}/", serverSelectionTimeoutMS=5000)
    return client["auth"]["users"].count_documents({"pending_event.event_id": {"$gt": ""}})


def check_events(acked, after):
    """Missing, duplicate and phantom created events of this case's writes."""
    created = {"product": {}, "customer": {}, "user": {}}
    for subject, event in read_events(after):
        data = event.get("data") or {}
        if subject == "products.events.created" and str(data.get("product_name", "")).startswith("fault-"):
            key = ("product", int(event["aggregate_id"]))
        elif subject == "customers.events.created" and data.get("company_name") == "Fault Test":
            key = ("customer", event["aggregate_id"])
        elif subject == "auth.events.registered" and str(data.get("email", "")).startswith("fault-"):
            key = ("user", data["email"])
        else:
            continue
        created[key[0]][key[1]] = created[key[0]].get(key[1], 0) + 1
    missing = sum(1 for kind in ("product", "customer", "user") for a in acked[kind] if a not in created[kind])
    duplicates = sum(n - 1 for kind in created for n in created[kind].values())
    phantom = 0
    if created["product"]:
        ids = ",".join(str(i) for i in created["product"])
        phantom += len(created["product"]) - int(psql(f"SELECT count(*) FROM products WHERE product_id IN ({ids})"))
    if created["customer"]:
        ids = ",".join("'" + c + "'" for c in created["customer"])
        phantom += len(created["customer"]) - int(psql(f"SELECT count(*) FROM customers WHERE customer_id IN ({ids})"))
    if created["user"]:
        phantom += len(created["user"]) - found_in_databases({"product": [], "customer": [], "user": list(created["user"])})
    return missing, duplicates, phantom


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
    events_before = events_last_sequence()
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
    # Written twice: two products with one name (each create has its own name and key).
    duplicate_writes = int(psql(
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM products "
        "WHERE product_name LIKE 'fault-%' GROUP BY product_name HAVING count(*) > 1) d"))
    lag = outbox_lag()
    missing, duplicates, phantom = check_events(load.acked, events_before)
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
        "duplicate_writes": duplicate_writes,
        "fault_s": round(fault_end - fault_start, 2),
        "recovery_s": round(recovery, 2),
        "event_writes": acked_total,
        "events_missing": missing,
        "events_duplicate": duplicates,
        "events_phantom": phantom,
        "relay_lag_s": lag,
        "failed_by_kind": {
            kind: {str(st): sum(1 for r in failed if r[2] == kind and r[3] == st) for st in sorted({r[3] for r in failed if r[2] == kind})}
            for kind in sorted({r[2] for r in failed})
        },
    }


def print_table(results):
    header = (
        "| case | sent | succeeded | failed (by status) | slowest failed answer | acked writes | "
        "found in DB | lost | written twice | fault | recovery after fault | "
        "events: missing / duplicate / phantom, relay lag |"
    )
    print(header)
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        if "error" in r:
            print(f"| {r['case']} | {r['error']} |")
            continue
        by = ", ".join(f"{k}: {v}" for k, v in r["failed_by_status"].items()) or "-"
        print(
            f"| {r['case']} | {r['sent']} | {r['succeeded']} | {r['failed']} ({by}) | {r['slowest_failed_s']} s | "
            f"{r['acked_writes']} | {r['acked_found']} | {r['lost']} | {r.get('duplicate_writes', '-')} | "
            f"{r['fault_s']} s | {r['recovery_s']} s | "
            f"{events_cell(r)} |"
        )


def events_cell(r):
    if "events_missing" not in r:
        return "-"
    lag = "not emptied" if r["relay_lag_s"] is None else f"{r['relay_lag_s']} s"
    return f"{r['events_missing']} / {r['events_duplicate']} / {r['events_phantom']} of {r['event_writes']}, {lag}"


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
    bad = [
        r for r in results
        if "error" in r or r["lost"] > 0 or r["slowest_failed_s"] > 6 or r["recovery_s"] > 2
        or r.get("duplicate_writes", 0)
        or r.get("events_missing", 0) or r.get("events_duplicate", 0) or r.get("events_phantom", 0)
        or ("relay_lag_s" in r and r["relay_lag_s"] is None)
    ]
    for r in bad:
        print(f"[fault-suite] goal missed: {r['case']}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
