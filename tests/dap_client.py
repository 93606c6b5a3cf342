"""A small Debug Adapter Protocol client over TCP, as an editor's debugger speaks to debugpy (attach)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any


class DapClient:
    def __init__(self, host: str, port: int, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=5)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(timeout)
        self.buffer = b""
        self.seq = 0
        self.events: list[dict[str, Any]] = []
        self.responses: dict[int, dict[str, Any]] = {}

    def send(self, command: str, **arguments: Any) -> int:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def _read(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return json.loads(rest[:length])

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the debug adapter closed the connection")
        return data

    def _pump_until(self, found: Any, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            hit = found()
            if hit is not None:
                return hit
            message = self._read()
            if message["type"] == "event":
                self.events.append(message)
            elif message["type"] == "response":
                self.responses[message["request_seq"]] = message
            elif message["type"] == "request" and message.get("command") == "runInTerminal":
                raise AssertionError("unexpected reverse request")
        raise TimeoutError("no answer from the debug adapter")

    def response(self, seq: int, timeout: float = 60) -> dict[str, Any]:
        answer = self._pump_until(lambda: self.responses.get(seq), timeout)
        assert answer["success"], answer
        return answer

    def request(self, command: str, timeout: float = 60, **arguments: Any) -> dict[str, Any]:
        return self.response(self.send(command, **arguments), timeout)

    def event(self, name: str, timeout: float = 60) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            return None

        return self._pump_until(find, timeout)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
