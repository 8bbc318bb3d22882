"""A real S3 API on loopback: moto's server in a subprocess, for tests and benchmarks of a lake on
an object store.

`S3Server()` starts `python -m moto.server` on a free 127.0.0.1 port, waits until it answers, and
creates a bucket. `env` is what any S3 client needs to reach it (botocore, so s3fs, boto3 and
MLflow's artifact store, all read `AWS_ENDPOINT_URL`); `url(prefix)` is a lake root in the bucket.
The server keeps its objects in memory and is stopped (SIGTERM, then SIGKILL) on exit.
"""

from __future__ import annotations

import subprocess
import sys

from rtt.testing.loopback import answers, free_port, wait_for


class S3Server:
    """moto's S3 server on 127.0.0.1 with one bucket; a context manager."""

    def __init__(self, bucket: str = "lake", start_timeout_s: float = 60.0):
        self.bucket, self.port = bucket, free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: answers(self.endpoint), start_timeout_s, "moto's S3 server", self.proc)
            self.client().create_bucket(Bucket=bucket)
        except BaseException:
            self.stop()
            raise

    def client(self):
        """A boto3 S3 client of this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_DEFAULT_REGION"],
        )

    def url(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under `prefix`, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> S3Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
