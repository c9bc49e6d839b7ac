"""A throw-away Redis server on 127.0.0.1 and a free port, for the scale-out tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.support.pg import free_port

REDIS_SERVER = os.environ.get("CAMPAIGN_REDIS_SERVER", "redis-server")


class RedisServer:
    """``with RedisServer() as server: server.url`` — no persistence, removed on exit."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="campaign-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> RedisServer:
        binary = shutil.which(REDIS_SERVER)
        if binary is None:
            raise RuntimeError(f"{REDIS_SERVER} not found: install Debian's redis-server")
        self.log = open(self.dir / "redis.log", "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(
            [
                binary, "--bind", "127.0.0.1", "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", str(self.dir),
            ],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = self.client()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited:\n" + (self.dir / "redis.log").read_text())
            try:
                if client.ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("redis-server did not answer within 15 s")

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def __exit__(self, *_exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
