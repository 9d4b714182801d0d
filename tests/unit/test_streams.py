import json
import random
import struct

import pytest

from minidokku.engine.streams import MAX_LINE, STDERR, STDOUT, demultiplex, json_messages, lines


def frame(stream_id: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream_id, len(payload)) + payload


FRAMES = [
    (STDOUT, b"hello "),
    (STDOUT, b"world\n"),
    (STDERR, b"warn\xc3"),
    (STDERR, b"\xa9\n"),
    (STDOUT, b""),
    (STDOUT, b"x" * 70000),
    (STDERR, bytes(range(256))),
]
RAW = b"".join(frame(s, p) for s, p in FRAMES)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def test_demultiplex_of_one_chunk():
    assert list(demultiplex([RAW])) == FRAMES


@pytest.mark.parametrize("seed", range(20))
def test_demultiplex_of_frames_split_at_random_boundaries(seed):
    rng = random.Random(seed)
    cuts = rng.sample(range(1, len(RAW)), rng.randint(1, 60))
    assert list(demultiplex(split_at(RAW, cuts))) == FRAMES


def test_demultiplex_one_byte_at_a_time():
    assert list(demultiplex(RAW[i : i + 1] for i in range(len(RAW)))) == FRAMES


def test_demultiplex_drops_an_incomplete_last_frame():
    assert list(demultiplex([frame(STDOUT, b"ok"), frame(STDOUT, b"cut off")[:-2]])) == [(STDOUT, b"ok")]


def test_lines_joins_partial_lines_per_stream():
    frames = [
        (STDOUT, b"hel"),
        (STDERR, b"err "),
        (STDOUT, b"lo\nsec"),
        (STDERR, b"one\nerr two\n"),
        (STDOUT, b"ond\nlast without newline"),
        (STDERR, b"tail"),
    ]
    assert list(lines(frames)) == [
        (STDOUT, "hello"),
        (STDERR, "err one"),
        (STDERR, "err two"),
        (STDOUT, "second"),
        (STDOUT, "last without newline"),
        (STDERR, "tail"),
    ]


def test_lines_keeps_empty_lines_and_joins_split_utf8():
    frames = [(STDOUT, b"\n\ncaf\xc3"), (STDOUT, b"\xa9\n")]
    assert list(lines(frames)) == [(STDOUT, ""), (STDOUT, ""), (STDOUT, "café")]


def test_lines_replaces_invalid_utf8():
    assert list(lines([(STDOUT, b"bad \xff byte\n")])) == [(STDOUT, "bad \ufffd byte")]


def test_demultiplex_then_lines_over_random_chunks():
    text = "".join(f"line {n}\n" for n in range(200)).encode()
    raw = b"".join(frame(STDOUT, text[i : i + 7]) for i in range(0, len(text), 7))
    chunks = split_at(raw, random.Random(1).sample(range(1, len(raw)), 50))
    assert [line for _, line in lines(demultiplex(chunks))] == [f"line {n}" for n in range(200)]


def test_json_messages_of_several_objects_on_one_line_and_keep_alives():
    raw_lines = [
        b'{"stream":"Step 1/2"}{"stream":"\\n"}  {"status":"Pulling"}\n',
        b"",
        b"   \r\n",
        b'{"aux":{"ID":"sha256:abc"}}\r\n',
        json.dumps({"errorDetail": {"message": "no space"}, "error": "no space"}).encode(),
        '{"stream":"caf\u00e9 ✓"}'.encode(),
    ]
    assert list(json_messages(raw_lines)) == [
        {"stream": "Step 1/2"},
        {"stream": "\n"},
        {"status": "Pulling"},
        {"aux": {"ID": "sha256:abc"}},
        {"errorDetail": {"message": "no space"}, "error": "no space"},
        {"stream": "café ✓"},
    ]


def test_json_messages_refuses_a_broken_line():
    with pytest.raises(json.JSONDecodeError):
        list(json_messages([b'{"stream": "trunc']))


def test_a_line_without_newline_is_given_in_bounded_pieces():
    """A container that never prints a newline cannot grow the host's buffer without bound."""
    frames = [(STDOUT, b"x" * 16384) for _ in range(20)] + [(STDOUT, b"end\n")]
    pieces = [text for _stream, text in lines(frames)]
    assert all(len(piece) <= MAX_LINE for piece in pieces)
    assert "".join(pieces) == "x" * 16384 * 20 + "end"
