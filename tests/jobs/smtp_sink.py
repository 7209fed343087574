"""A real SMTP server for the kill tests (aiosmtpd): counts every message it receives, by
Message-ID, and can hold one conversation at a chosen point so a test can kill the worker
while it waits there — before the message (at MAIL FROM: nothing delivered yet) or on the
wire (the whole message received, the worker still waiting for the answer)."""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections import Counter
from contextlib import closing
from socket import socket

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with closing(socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self):
        self.message_ids: list[str] = []
        self.lock = threading.Lock()
        self.hold_at: tuple[str, int] | None = None  # ("mail" | "data", n-th message)
        self.holding = threading.Event()
        self.release = threading.Event()
        self._seen = {"mail": 0, "data": 0}
        self.port = _free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def hold(self, point: str, nth: int) -> None:
        self.hold_at = (point, nth)

    async def _maybe_hold(self, point: str) -> None:
        with self.lock:
            self._seen[point] += 1
            hold = self.hold_at == (point, self._seen[point])
        if hold:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await self._maybe_hold("mail")
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.message_ids.append(message["Message-ID"])
        await self._maybe_hold("data")
        return "250 Message accepted"

    @property
    def deliveries(self) -> int:
        with self.lock:
            return len(self.message_ids)

    def duplicates(self) -> dict[str, int]:
        with self.lock:
            return {mid: n for mid, n in Counter(self.message_ids).items() if n > 1}

    def wait_holding(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.holding.is_set():
            if time.monotonic() > deadline:
                raise AssertionError("the SMTP sink never reached its hold point")
            time.sleep(0.05)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.controller.stop()
