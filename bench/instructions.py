#!/usr/bin/env python3
"""Instructions per request, counted by callgrind: the steady measure of
`scripts/bench-instructions.sh`.

Wall-clock rates on a shared 2-core machine swing by 15% between rounds;
the number of instructions a process executes for the same requests does
not (the same count to within a fraction of a percent, whatever else the
machine is doing). The script drives processes that already run under
`valgrind --tool=callgrind --instr-atstart=no`: for each row it sends a
warm-up, switches instrumentation on in the serving process and in
redis-server (`callgrind_control -i on`), sends N requests one at a time on
one keep-alive connection, switches it off, dumps the counts and divides.

Usage: instructions.py RESULTS REDIS_PID ROW... where a ROW is
NAME:SERVER_PID:PORT:METHOD:PATH. PATH may hold `{n}`, replaced by a fresh
value per request; or it is `@FILE`, a file of one request per line, each
a JSON object with `path` and optionally `headers` and `body` (sent as
application/json), the WARM_UP warm-up requests first, then REQUESTS more:
for requests that differ by more than a path segment (their own seats,
their own hold and its token), made beforehand so that making them is not
measured. Appends "NAME server_ir_per_request redis_ir_per_request
statuses" lines to RESULTS.

Redis does work of its own while instrumented (its timers, `serverCron`,
run 10 times a second whatever the load), and a row under valgrind takes
seconds: that idle work is measured first, with no request, and each
row's Redis count is net of it (its rate times the row's duration).
"""

import glob
import http.client
import json
import os
import subprocess
import sys
import time
import uuid

REQUESTS = int(os.environ.get("REQUESTS", "200"))
WARM_UP = int(os.environ.get("WARM_UP", "30"))


def control(pid, *args):
    """Runs callgrind_control on `pid`, failing loudly if it cannot."""
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def dumped_total(pid, out_dir):
    """Dumps `pid`'s counts and returns the instruction total of the dump."""
    before = set(glob.glob(os.path.join(out_dir, f"*.{pid}.out*")))
    control(pid, "-d")
    for _ in range(100):
        new = set(glob.glob(os.path.join(out_dir, f"*.{pid}.out*"))) - before
        if new:
            path = max(new, key=os.path.getmtime)
            with open(path) as dump:
                for line in dump:
                    if line.startswith("totals:"):
                        return int(line.split()[1])
        time.sleep(0.1)
    raise SystemExit(f"callgrind wrote no dump for process {pid}")


def row_requests(path, tag):
    """The row's warm-up and measured requests, each (path, headers, body)."""
    if not path.startswith("@"):
        warm = [(path.replace("{n}", f"warm-{tag}-{i}"), {}, None) for i in range(WARM_UP)]
        return warm, [(path.replace("{n}", f"{tag}-{i}"), {}, None) for i in range(REQUESTS)]
    requests = []
    with open(path[1:]) as lines:
        for line in lines:
            request = json.loads(line)
            headers, body = dict(request.get("headers", {})), None
            if "body" in request:
                body = json.dumps(request["body"]).encode()
                headers["content-type"] = "application/json"
            requests.append((request["path"], headers, body))
    if len(requests) < WARM_UP + REQUESTS:
        raise SystemExit(f"{path[1:]} has {len(requests)} requests; the row sends {WARM_UP + REQUESTS}")
    return requests[:WARM_UP], requests[WARM_UP:WARM_UP + REQUESTS]


def send(port, method, requests):
    """Sends `requests` on one connection; returns the statuses seen."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    statuses = {}
    for path, headers, body in requests:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
    conn.close()
    return statuses


def idle_rate(redis_pid, out_dir, seconds=3.0):
    """Instructions a second Redis executes with no request to serve."""
    control(redis_pid, "-z")
    control(redis_pid, "-i", "on")
    start = time.monotonic()
    time.sleep(seconds)
    control(redis_pid, "-i", "off")
    elapsed = time.monotonic() - start
    return dumped_total(redis_pid, out_dir) / elapsed


def main():
    results, redis_pid, rows = sys.argv[1], sys.argv[2], sys.argv[3:]
    out_dir = os.environ["CALLGRIND_DIR"]
    idle = idle_rate(redis_pid, out_dir)
    print(f"  (Redis at rest: {idle:,.0f} instructions a second, taken off each row)")
    with open(results, "a") as out:
        for row in rows:
            name, server_pid, port, method, path = row.split(":", 4)
            warm_up, measured = row_requests(path, uuid.uuid4().hex[:8])
            send(int(port), method, warm_up)
            for pid in (server_pid, redis_pid):
                control(pid, "-z")
                control(pid, "-i", "on")
            start = time.monotonic()
            statuses = send(int(port), method, measured)
            for pid in (server_pid, redis_pid):
                control(pid, "-i", "off")
            elapsed = time.monotonic() - start
            server = dumped_total(server_pid, out_dir) / REQUESTS
            redis = (dumped_total(redis_pid, out_dir) - idle * elapsed) / REQUESTS
            codes = ",".join(f"{code}x{n}" for code, n in sorted(statuses.items()))
            out.write(f"{name} {server:.0f} {redis:.0f} {codes}\n")
            print(f"  {name:<28} {server:>12,.0f} {redis:>10,.0f}  {codes}", flush=True)


if __name__ == "__main__":
    main()
