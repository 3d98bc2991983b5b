"""Servers that do not speak HTTP at all, for timeout tests and benchmarks.

The sandbox's ``hang`` fault answers nothing after a complete HTTP exchange started;
these go lower: a TCP listener that accepts and never says a word (or hangs up at once),
and a port on which nothing listens.
"""

import contextlib
import socket
import threading


@contextlib.contextmanager
def silent_server(answer=False):
    """Yield ``(base_url, accepted)``: a TCP server on 127.0.0.1 that accepts connections
    and never answers (with ``answer``: reads the request, then hangs up without a word)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    accepted = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _address = listener.accept()
            except OSError:
                continue
            accepted.append(connection)
            if answer:
                connection.recv(65536)
                connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(2)
        for connection in accepted:
            connection.close()
        listener.close()


def closed_port_url():
    """A localhost URL on which nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
