"""Reading a growing file without loading it whole: a byte range in blocks, or where its tail begins.

Shared by the job logs (jobs/logs.py) and the app log viewer (applog.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

_READ_CHUNK = 64 * 1024


def read_range(path: Path, offset: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The bytes of [offset, end) in blocks; `end` defaults to the size when the read starts."""
    with open(path, "rb") as fh:
        stop = os.fstat(fh.fileno()).st_size if end is None else end
        fh.seek(offset)
        position = offset
        while position < stop:
            block = fh.read(min(_READ_CHUNK, stop - position))
            if not block:
                return
            position += len(block)
            yield block


def tail_offset(path: Path, lines: int) -> int:
    """Where the last `lines` lines begin, found by reading backwards from the end."""
    with open(path, "rb") as fh:
        position = os.fstat(fh.fileno()).st_size
        end = position
        newlines = 0
        while position > 0:
            start = max(position - _READ_CHUNK, 0)
            fh.seek(start)
            block = fh.read(position - start)
            # The file's final newline ends the last line; it does not start another.
            if position == end and block.endswith(b"\n"):
                block = block[:-1]
            index = len(block)
            while True:
                index = block.rfind(b"\n", 0, index)
                if index < 0:
                    break
                newlines += 1
                if newlines == lines:
                    return start + index + 1
            position = start
        return 0
