#!/usr/bin/env python3
"""A trace collector for tests and benchmarks: accepts OTLP/HTTP protobuf on
POST /v1/traces, decodes it with OpenTelemetry's own classes (opentelemetry-proto), and
appends one JSON line per span to OUTPUT (or counts them only, with --count-only).

    otlp-receiver.py OUTPUT [--port N] [--count-only]

Prints "listening on PORT" once it accepts requests. Anything it cannot decode is answered
with 400 and logged to stderr.
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(item) for item in any_value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: value(item.value) for item in any_value.kvlist_value.values}
    return getattr(any_value, kind) if kind else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count-only", action="store_true")
    args = parser.parse_args()
    output = open(args.output, "a", buffering=1)
    totals = {"spans": 0, "requests": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                return self.answer(404 if self.path != "/v1/traces" else 415)
            request = trace_service_pb2.ExportTraceServiceRequest()
            try:
                request.ParseFromString(body)
            except Exception as error:  # a malformed body is the exporter's bug: say so
                print(f"cannot decode an export: {error}", file=sys.stderr, flush=True)
                return self.answer(400)
            lines = []
            if args.count_only:
                # Counted, not read span by span: a benchmark measures the exporter, not this.
                spans = sum(len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans)
                with lock:
                    totals["spans"] += spans
            for resource_spans in [] if args.count_only else request.resource_spans:
                resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        with lock:
                            totals["spans"] += 1
                        lines.append(json.dumps({
                            "service": resource.get("service.name"),
                            "resource": resource,
                            "scope": scope_spans.scope.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "trace_state": span.trace_state,
                            "name": span.name,
                            "kind": span.kind,
                            "start": span.start_time_unix_nano,
                            "end": span.end_time_unix_nano,
                            "attributes": {a.key: value(a.value) for a in span.attributes},
                            "events": [e.name for e in span.events],
                            "status": span.status.code,
                            "flags": span.flags,
                        }))
            with lock:
                totals["requests"] += 1
                if args.count_only:
                    # Replaced whole, so a reader never sees a half-written count.
                    with open(args.output + ".tmp", "w") as counts:
                        counts.write(json.dumps(totals) + "\n")
                    os.replace(args.output + ".tmp", args.output)
                else:
                    output.write("".join(line + "\n" for line in lines))
            self.answer(200)

        def answer(self, status):
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
