"""A tiny scripted HTTP server for the hostile-server tests (tests/test_api_hostile.py).

Each accepted connection gets its request read (head and Content-Length body), then is
handed to the test's ``handler(exchange)`` in a thread of its own: the handler writes what
it likes, as slowly as it likes, until ``exchange.stopped`` (the test is over) or the
client hangs up (``exchange.send`` returns False). Everything stops when the context ends.
"""

import contextlib
import socket
import threading
import time


class Exchange:
    """One connection of the scripted server."""

    def __init__(self, connection, index, request, stop):
        self.connection = connection
        self.index = index  # 0 for the first connection, 1 for the next, ...
        self.request = request  # the request head and body, bytes
        self._stop = stop
        self.sent = 0  # bytes the client's socket accepted
        self.hung_up = False

    @property
    def stopped(self):
        return self._stop.is_set()

    def send(self, data):
        """Write ``data``; False once the client has gone (or the test is over)."""
        if self.stopped or self.hung_up:
            return False
        try:
            self.connection.sendall(data)
        except OSError:
            self.hung_up = True
            return False
        self.sent += len(data)
        return True

    def trickle(self, data, every, give_up_after):
        """Send ``data`` one byte every ``every`` seconds, for ``give_up_after`` seconds
        at most (so a test of code that does not stop stays bounded in time)."""
        ends = time.monotonic() + give_up_after
        for byte in data:
            if time.monotonic() > ends or not self.send(bytes([byte])):
                return
            self._stop.wait(every)

    def send_response_head(self, status="200 OK", length=None, **headers):
        lines = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    def flood(self, total, chunk=b"a" * 65536):
        """Send up to ``total`` bytes of filler, stopping when the client hangs up."""
        while self.sent < total and self.send(chunk[: total - self.sent]):
            pass


def _read_request(connection):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@contextlib.contextmanager
def scripted_server(handler):
    """Yield ``(base_url, exchanges)``: an HTTP server on 127.0.0.1 whose connections are
    answered by ``handler(exchange)``; ``exchanges`` lists them, in order."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()
    exchanges, threads = [], []

    def serve(connection, index):
        connection.settimeout(10)
        try:
            request = _read_request(connection)
            exchange = Exchange(connection, index, request, stop)
            exchanges.append(exchange)
            handler(exchange)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                connection.close()

    def accept():
        while not stop.is_set():
            try:
                connection, _address = listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=serve, args=(connection, len(threads)), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", exchanges
    finally:
        stop.set()
        acceptor.join(2)
        for thread in threads:
            thread.join(2)
        listener.close()
