#!/usr/bin/env python3
"""Latency of HTTP pages under concurrent clients: p50/p95 per page, for bench/serve.sh.

Usage: serve_client.py NAME BASE_URL CLIENTS REQUESTS_PER_CLIENT LABEL=PATH...
Each client keeps one HTTP/1.1 connection (keep-alive) and asks the pages in turn; every
answer must be 200. Prints one line per page: name, label, p50 ms, p95 ms, max ms, req/s.
"""
import http.client
import sys
import threading
import time
from urllib.parse import urlparse


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def run_page(host, port, path, clients, per_client):
    latencies = []
    failures = []
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=120)
        mine = []
        for _ in range(per_client):
            start = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000.0)
            if response.status != 200:
                with lock:
                    failures.append(response.status)
        conn.close()
        with lock:
            latencies.extend(mine)

    # Warm-up: one request alone (first use of caches and indexes is timed separately).
    conn = http.client.HTTPConnection(host, port, timeout=600)
    start = time.perf_counter()
    conn.request("GET", path)
    first = conn.getresponse()
    first.read()
    first_ms = (time.perf_counter() - start) * 1000.0
    conn.close()
    if first.status != 200:
        failures.append(first.status)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "first_ms": first_ms,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "max": latencies[-1] if latencies else float("nan"),
        "rps": len(latencies) / elapsed if elapsed > 0 else float("nan"),
        "failures": failures,
    }


def main():
    name, base, clients, per_client = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    url = urlparse(base)
    for spec in sys.argv[5:]:
        label, path = spec.split("=", 1)
        r = run_page(url.hostname, url.port, path, clients, per_client)
        bad = f"  NON-200: {sorted(set(r['failures']))}" if r["failures"] else ""
        print(
            f"{name:10} {label:16} first {r['first_ms']:8.1f} ms  p50 {r['p50']:8.1f} ms  "
            f"p95 {r['p95']:8.1f} ms  max {r['max']:8.1f} ms  {r['rps']:7.1f} req/s{bad}",
            flush=True,
        )


if __name__ == "__main__":
    main()
