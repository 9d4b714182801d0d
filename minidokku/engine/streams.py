"""Decoding of the Engine's streamed answers.

- Logs and attach without a TTY multiplex stdout and stderr: each frame has an 8-byte header
  (stream id, 3 zero bytes, big-endian payload length) and then the payload.
- Build, pull and import stream one JSON object per chunk/line.
"""

import json
import struct
from collections.abc import Iterable, Iterator

HEADER = struct.Struct(">BxxxL")
STDOUT, STDERR = 1, 2
MAX_LINE = 64 * 1024  # a longer run without a newline is cut into lines of this size


def demultiplex(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Yields (stream id, payload) frames from raw bytes arriving in arbitrary chunks."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= HEADER.size:
            stream_id, length = HEADER.unpack_from(buffer)
            if len(buffer) < HEADER.size + length:
                break
            yield stream_id, buffer[HEADER.size : HEADER.size + length]
            buffer = buffer[HEADER.size + length :]


def lines(frames: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, str]]:
    """Joins frames into whole text lines per stream (a frame may hold part of a line). A line
    longer than MAX_LINE is given in pieces, so output without newlines (a container's to choose)
    never grows a buffer without bound or is copied again for every frame."""
    pending = {STDOUT: b"", STDERR: b""}
    for stream_id, payload in frames:
        data = pending.get(stream_id, b"") + payload
        *complete, rest = data.split(b"\n")
        while len(rest) > MAX_LINE:
            complete.append(rest[:MAX_LINE])
            rest = rest[MAX_LINE:]
        pending[stream_id] = rest
        for line in complete:
            for start in range(0, max(len(line), 1), MAX_LINE):
                yield stream_id, line[start : start + MAX_LINE].decode("utf-8", "replace")
    for stream_id, rest in pending.items():
        if rest:
            yield stream_id, rest.decode("utf-8", "replace")


def json_messages(raw_lines: Iterable[bytes]) -> Iterator[dict]:
    """Decodes a JSON-lines progress stream (build, pull, import), skipping blank keep-alives."""
    decoder = json.JSONDecoder()
    for raw in raw_lines:
        text = raw.decode("utf-8", "replace").strip()
        while text:
            message, end = decoder.raw_decode(text)
            yield message
            text = text[end:].lstrip()
