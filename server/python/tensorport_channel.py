"""The event channel between a Tensor Port run and a Python process: JSON lines over a local socket named
in the environment, never stdout (which a launcher's other ranks, warnings and progress bars share).

    TENSORPORT_CHANNEL=unix:/path/to/socket   (POSIX)   or   tcp:127.0.0.1:PORT   (Windows)
    TENSORPORT_CHANNEL_TOKEN=…                the first line sent must carry it

Under a launcher only rank 0 talks to the channel; `send` on other ranks writes nothing to it, so their
output stays in the log. A script of command mode may use this file too:

    import os, sys; sys.path.insert(0, os.environ["TENSORPORT_PYTHON_DIR"])
    import tensorport_channel as tp
    tp.connect()   # before printing anything that starts with "{"
    tp.send({"event": "stat", "name": "encoder.layer.3", "maxAbsDiff": 0.0})
    tp.send({"event": "done"})

Standard library only: nothing to install.
"""
import json
import os
import socket

_sock = None
_opened = False


def rank():
    for k in ("RANK", "PADDLE_TRAINER_ID", "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
        v = os.environ.get(k)
        if v is not None and v.strip().lstrip("-").isdigit():
            return int(v)
    return 0


def world_size():
    for k in ("WORLD_SIZE", "PADDLE_TRAINERS_NUM", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        v = os.environ.get(k)
        if v is not None and v.strip().isdigit():
            return int(v)
    return 1


def available():
    return bool(os.environ.get("TENSORPORT_CHANNEL"))


def _open():
    global _sock, _opened
    _opened = True
    where = os.environ.get("TENSORPORT_CHANNEL", "")
    if not where or rank() != 0:
        return None
    if where.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(where[len("unix:"):])
    elif where.startswith("tcp:"):
        host, _, port = where[len("tcp:"):].rpartition(":")
        s = socket.create_connection((host, int(port)))
    else:
        raise RuntimeError("TENSORPORT_CHANNEL must be unix:PATH or tcp:HOST:PORT, not %r" % where)
    _sock = s
    _write({"event": "hello", "token": os.environ.get("TENSORPORT_CHANNEL_TOKEN", ""), "pid": os.getpid()})
    # Wait for Tensor Port's answer: from then on it reads events here only, and stdout is plain output.
    s.settimeout(30)
    got = b""
    while not got.endswith(b"\n"):
        chunk = s.recv(64)
        if not chunk:
            raise RuntimeError("the Tensor Port event channel closed before it answered")
        got += chunk
    s.settimeout(None)
    return s


def _write(event):
    # NaN and the infinities as Python writes them (bare words): the reader accepts them, as on stdout.
    data = (json.dumps(event, separators=(",", ":")) + "\n").encode("utf-8")
    _sock.sendall(data)


def send(event):
    """Sends one event (a dict with "event"); a no-op on ranks other than 0 and without a channel."""
    if not _opened:
        _open()
    if _sock is None:
        return False
    _write(event)
    return True


def connect():
    """Connects now (rank 0, when a channel is named): after this, stdout is only the script's output."""
    if not _opened:
        _open()


def close():
    global _sock
    if _sock is not None:
        try:
            _sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        _sock.close()
        _sock = None
