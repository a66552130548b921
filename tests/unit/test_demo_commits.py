"""Offset commits decoded from __consumer_offsets records, as the broker writes them."""

from __future__ import annotations

import struct

from demo.commits import decode_commit


def _string(text: str) -> bytes:
    return struct.pack(">h", len(text)) + text.encode()


def _key(version: int, group: str, topic: str, partition: int) -> bytes:
    return struct.pack(">h", version) + _string(group) + _string(topic) + struct.pack(">i", partition)


def test_an_offset_commit_gives_group_topic_partition_and_offset() -> None:
    value = struct.pack(">hq", 3, 1234) + struct.pack(">i", -1) + _string("") + struct.pack(">q", 0)
    assert decode_commit(_key(1, "g", "t.results", 2), value) == (("g", "t.results", 2), 1234)


def test_a_tombstone_is_a_deleted_offset() -> None:
    assert decode_commit(_key(0, "g", "t", 0), None) == (("g", "t", 0), None)


def test_group_metadata_and_junk_are_not_commits() -> None:
    assert decode_commit(struct.pack(">h", 2) + _string("g"), b"\x00\x03") is None
    assert decode_commit(None, None) is None
    assert decode_commit(b"\x00", b"") is None
