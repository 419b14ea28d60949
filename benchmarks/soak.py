"""``python -m benchmarks.soak [--seconds 60] [--clients 32]``: mixed traffic against one
``fakeregistry serve`` process, and whether it stays correct, quick and flat in memory.

Each client thread owns a repository (so it knows exactly what must be there) and loops until
the time is up, picking one of: push a small image (config and 1-3 layers of 1-64 KiB, by
monolithic or chunked upload), pull one of its images (manifest, then every blob, each blob's
sha256 checked against its digest), mount a blob from another client's repository, tag, delete
its oldest image (manifest and blobs: memory stays bounded), list tags and page the catalog,
push a referrer and list referrers, or send a bad request (bad digest, huge Range, ``?n=²``,
a gzip body, a manifest that nests too deep) that must be refused with a 4xx.

Reported: requests served, 5xx responses (goal 0), unexpected statuses, p50/p99 latency, RSS
of the server after the warm-up (the first sixth of the run) and at the end (goal: within 10%),
and the number of pulled blobs whose digest was checked (and any that did not match).
Bounded: it talks only to 127.0.0.1 and stops after ``--seconds``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from benchmarks.ops import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, sha256_digest
from benchmarks.rawhttp import Connection, HTTPError
from benchmarks.servers import FakeRegistry

__all__ = ["SoakResult", "main", "run_soak"]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
KEEP_IMAGES = 4


@dataclass
class Stats:
    requests: int = 0
    server_errors: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    blobs_checked: int = 0
    digest_mismatches: int = 0
    failures: list[str] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class PushedImage:
    tag: str
    digest: str
    body: bytes
    blobs: tuple[str, ...]


class Client:
    """One client: a connection, its repository, what it pushed there."""

    def __init__(self, number: int, port: int, clients: list[Client], seed: int) -> None:
        self.number = number
        self.repo = f"soak/client{number}"
        self.conn = Connection("127.0.0.1", port, timeout=60)
        self.port = port
        self.clients = clients
        self.random = random.Random(seed)
        self.images: list[PushedImage] = []
        self.stats = Stats()
        self.counter = 0

    # -- one request, timed and counted ---------------------------------------------------

    def call(
        self,
        method: str,
        target: str,
        expected: tuple[int, ...],
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        conn: Connection | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = conn or self.conn
        start = time.perf_counter()
        response = connection.request(method, target, headers, (body,) if body else ())
        self.stats.latencies.append(time.perf_counter() - start)
        self.stats.requests += 1
        if response.status >= 500:
            self.stats.server_errors += 1
        if response.status not in expected:
            self.stats.unexpected[f"{method} {response.status}"] += 1
        return response.status, response.headers, response.body

    # -- operations ---------------------------------------------------------------------------

    def push_blob(self, data: bytes) -> str:
        digest = sha256_digest([data])
        if self.random.random() < 0.5:
            self.call("POST", f"/v2/{self.repo}/blobs/uploads/?digest={digest}", (201,), body=data)
            return digest
        _, headers, _ = self.call("POST", f"/v2/{self.repo}/blobs/uploads/", (202,))
        location = self.conn.path_of(headers.get("location", ""))
        half = len(data) // 2
        _, headers, _ = self.call(
            "PATCH",
            location,
            (202,),
            {"Content-Range": f"0-{half - 1}", "Content-Type": "application/octet-stream"},
            data[:half],
        )
        location = self.conn.path_of(headers.get("location", location))
        separator = "&" if "?" in location else "?"
        self.call("PUT", f"{location}{separator}digest={digest}", (201,), body=data[half:])
        return digest

    def push_image(self) -> None:
        self.counter += 1
        config = json.dumps({"architecture": "amd64", "os": "linux", "n": self.counter}).encode()
        layers = [
            os.urandom(self.random.randint(1024, 64 * 1024))
            for _ in range(self.random.randint(1, 3))
        ]
        config_digest = self.push_blob(config)
        layer_digests = [self.push_blob(layer) for layer in layers]
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [
                {"mediaType": OCI_LAYER_GZIP, "digest": d, "size": len(layer)}
                for d, layer in zip(layer_digests, layers, strict=True)
            ],
        }
        body = json.dumps(manifest).encode()
        tag = f"v{self.counter}"
        self.call(
            "PUT",
            f"/v2/{self.repo}/manifests/{tag}",
            (201,),
            {"Content-Type": OCI_MANIFEST},
            body,
        )
        digest = sha256_digest([body])
        self.images.append(PushedImage(tag, digest, body, (config_digest, *layer_digests)))

    def pull(self) -> None:
        image = self.random.choice(self.images)
        status, _, body = self.call(
            "GET", f"/v2/{self.repo}/manifests/{image.tag}", (200,), {"Accept": OCI_MANIFEST}
        )
        if status != 200 or body != image.body:
            self.stats.failures.append(f"manifest {image.tag} of {self.repo} differs")
            return
        for digest in image.blobs:
            status, _, data = self.call("GET", f"/v2/{self.repo}/blobs/{digest}", (200,))
            self.stats.blobs_checked += 1
            if status != 200 or sha256_digest([data]) != digest:
                self.stats.digest_mismatches += 1

    def mount(self) -> None:
        others = [c for c in self.clients if c is not self and c.images]
        if not others:
            return
        other = self.random.choice(others)
        try:
            digest = self.random.choice(other.images[-1].blobs)
        except IndexError:
            return
        # The other client may delete it meanwhile: 201 (mounted) or 202 (a fresh session).
        status, headers, _ = self.call(
            "POST", f"/v2/{self.repo}/blobs/uploads/?mount={digest}&from={other.repo}", (201, 202)
        )
        if status == 202:
            location = self.conn.path_of(headers.get("location", ""))
            self.call("DELETE", location, (204,))
            return
        # Mounted: it is readable here now; unlink it again unless an image of ours uses it
        # (configs can coincide across clients), so the registry's content stays bounded.
        self.call("HEAD", f"/v2/{self.repo}/blobs/{digest}", (200,))
        if digest not in {blob for image in self.images for blob in image.blobs}:
            self.call("DELETE", f"/v2/{self.repo}/blobs/{digest}", (202,))

    def tag(self) -> None:
        image = self.random.choice(self.images)
        self.call(
            "PUT",
            f"/v2/{self.repo}/manifests/{image.tag}-again",
            (201,),
            {"Content-Type": OCI_MANIFEST},
            image.body,
        )

    def delete_oldest(self) -> None:
        image = self.images.pop(0)
        self.call("DELETE", f"/v2/{self.repo}/manifests/{image.digest}", (202,))
        kept = {blob for other in self.images for blob in other.blobs}
        for blob in image.blobs:
            if blob not in kept:
                self.call("DELETE", f"/v2/{self.repo}/blobs/{blob}", (202,))

    def listing(self) -> None:
        status, _, body = self.call("GET", f"/v2/{self.repo}/tags/list", (200,))
        tags = set(json.loads(body)["tags"]) if status == 200 else set()
        if not {image.tag for image in self.images} <= tags:
            self.stats.failures.append(f"tags of {self.repo} miss some")
        self.call("GET", "/v2/_catalog?n=10", (200,))

    def referrers(self) -> None:
        image = self.images[-1]
        empty = self.push_blob(b"{}")
        artifact = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.soak",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": empty,
                "size": 2,
            },
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": image.digest, "size": len(image.body)},
        }
        body = json.dumps(artifact).encode()
        digest = sha256_digest([body])
        self.call(
            "PUT",
            f"/v2/{self.repo}/manifests/{digest}",
            (201,),
            {"Content-Type": OCI_MANIFEST},
            body,
        )
        status, _, listed = self.call("GET", f"/v2/{self.repo}/referrers/{image.digest}", (200,))
        if status == 200 and digest not in {m["digest"] for m in json.loads(listed)["manifests"]}:
            self.stats.failures.append("referrer missing")
        self.call("DELETE", f"/v2/{self.repo}/manifests/{digest}", (202,))

    def bad_request(self) -> None:
        image = self.images[-1]
        choice = self.random.randrange(5)
        if choice == 0:
            self.call("GET", f"/v2/{self.repo}/blobs/sha256:nothex", (400,))
        elif choice == 1:
            self.call(
                "GET",
                f"/v2/{self.repo}/blobs/{image.blobs[0]}",
                (416,),
                {"Range": "bytes=0-" + "9" * 5000},
            )
        elif choice == 2:
            self.call("GET", "/v2/_catalog?n=%C2%B2", (400,))
        elif choice == 3:
            # Refused with Connection: close: on a connection of its own.
            with Connection("127.0.0.1", self.port, timeout=60) as conn:
                self.call(
                    "POST",
                    f"/v2/{self.repo}/blobs/uploads/?digest={image.blobs[0]}",
                    (415,),
                    {"Content-Encoding": "gzip"},
                    gzip.compress(b"x" * 10000),
                    conn=conn,
                )
        else:
            self.call(
                "PUT",
                f"/v2/{self.repo}/manifests/deep",
                (400,),
                {"Content-Type": OCI_MANIFEST},
                b"[" * 100_000,
            )

    def step(self) -> None:
        if len(self.images) < 2:
            operation = "push"
        elif len(self.images) > KEEP_IMAGES:
            operation = "delete"
        else:
            operation = self.random.choices(
                ["push", "pull", "mount", "tag", "list", "referrers", "bad"],
                weights=[20, 40, 8, 6, 12, 6, 8],
            )[0]
        self.stats.operations[operation] += 1
        {
            "push": self.push_image,
            "pull": self.pull,
            "mount": self.mount,
            "tag": self.tag,
            "delete": self.delete_oldest,
            "list": self.listing,
            "referrers": self.referrers,
            "bad": self.bad_request,
        }[operation]()

    def run(self, deadline: float) -> None:
        try:
            while time.monotonic() < deadline:
                self.step()
        except (OSError, HTTPError, ValueError, KeyError) as exc:
            self.stats.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.conn.close()


@dataclass(frozen=True)
class SoakResult:
    seconds: float
    clients: int
    requests: int
    server_errors: int
    unexpected: dict[str, int]
    p50_ms: float
    p99_ms: float
    rss_after_warmup: int
    rss_at_end: int
    held_after_warmup: int
    held_at_end: int
    blobs_checked: int
    digest_mismatches: int
    failures: list[str]
    operations: dict[str, int]

    @property
    def rss_growth(self) -> float:
        return self.rss_at_end / self.rss_after_warmup - 1 if self.rss_after_warmup else 0.0

    def report(self) -> str:
        lines = [
            f"soak: {self.clients} clients for {self.seconds:.0f} s against fakeregistry serve",
            f"  requests served      {self.requests} ({self.requests / self.seconds:.0f}/s)",
            f"  5xx responses        {self.server_errors} (goal 0)",
            f"  unexpected statuses  {dict(self.unexpected) or 'none'}",
            f"  latency p50 / p99    {self.p50_ms:.1f} ms / {self.p99_ms:.1f} ms",
            f"  RSS after warm-up    {self.rss_after_warmup / 2**20:.1f} MiB",
            f"  RSS at end           {self.rss_at_end / 2**20:.1f} MiB "
            f"({self.rss_growth:+.1%}; goal within 10%)",
            f"  held (/healthz)      {self.held_after_warmup / 2**20:.1f} MiB after warm-up, "
            f"{self.held_at_end / 2**20:.1f} MiB at end",
            f"  pulled blobs checked {self.blobs_checked} ({self.digest_mismatches} mismatched)",
            f"  client failures      {self.failures[:5] or 'none'}",
            f"  operations           {dict(sorted(self.operations.items()))}",
        ]
        return "\n".join(lines)

    @property
    def ok(self) -> bool:
        return (
            self.server_errors == 0
            and not self.unexpected
            and self.digest_mismatches == 0
            and not self.failures
        )


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _held(registry: FakeRegistry) -> int:
    """The bytes the registry says it holds (``/healthz``)."""
    with registry.connect() as conn:
        usage = json.loads(conn.request("GET", "/healthz").expect(200).body)["usage"]
    return int(usage["total_bytes"])


def run_soak(seconds: float = 60.0, clients: int = 32, seed: int = 1) -> SoakResult:
    with FakeRegistry() as registry:
        port = registry.port
        memory = registry.memory
        crowd: list[Client] = []
        crowd.extend(Client(n, port, crowd, seed * 1000 + n) for n in range(clients))
        start = time.monotonic()
        deadline = start + seconds
        threads = [threading.Thread(target=c.run, args=(deadline,)) for c in crowd]
        for thread in threads:
            thread.start()
        time.sleep(min(seconds / 6, 10.0))
        rss_warm = memory.rss
        held_warm = _held(registry)
        for thread in threads:
            thread.join(timeout=seconds + 120)
        rss_end = memory.rss
        held_end = _held(registry)
        elapsed = time.monotonic() - start
    latencies = [latency for c in crowd for latency in c.stats.latencies]
    unexpected: Counter[str] = Counter()
    operations: Counter[str] = Counter()
    for c in crowd:
        unexpected.update(c.stats.unexpected)
        operations.update(c.stats.operations)
    return SoakResult(
        seconds=elapsed,
        clients=clients,
        requests=sum(c.stats.requests for c in crowd),
        server_errors=sum(c.stats.server_errors for c in crowd),
        unexpected=dict(unexpected),
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        rss_after_warmup=rss_warm,
        rss_at_end=rss_end,
        held_after_warmup=held_warm,
        held_at_end=held_end,
        blobs_checked=sum(c.stats.blobs_checked for c in crowd),
        digest_mismatches=sum(c.stats.digest_mismatches for c in crowd),
        failures=[f for c in crowd for f in c.stats.failures],
        operations=dict(operations),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="run time (default 60)")
    parser.add_argument("--clients", type=int, default=32, help="client threads (default 32)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600 or not 0 < args.clients <= 256:
        parser.error("--seconds must be in (0, 3600] and --clients in (0, 256]")
    result = run_soak(args.seconds, args.clients, args.seed)
    if args.json:
        print(json.dumps(result.__dict__ | {"rss_growth": result.rss_growth}, indent=2))
    else:
        print(result.report())
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
