"""Job log files, `DATA_DIR/logs/jobs/<job id>.log`: write, cap, read a range or the tail.

Their retention is part of housekeeping.py (issue 17), with the jobs they belong to.

Every line starts with a UTC timestamp. A job that prints forever must not fill the disk: past
JOB_LOG_MAX_BYTES the file keeps its head, one marker line, and a tail that is compacted in place
(copied forward in 1 MB blocks), so neither the file nor the memory grows with the output. Readers
never load a whole file: they use filetail.py (a byte range in blocks, the tail found backwards).

A full disk (ENOSPC) does not fail the job (issue 19): lines that find no room are dropped (a line
written in part is cut off again), and the first write that fits again, or the close, puts one line
saying how many were lost, so the log shows where it has a hole. `on_full` hears when lines start to
be lost, so the runner can fail the job instead when JOB_LOG_WRITE_FAILURE says so.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

MARKER = b"[vcore] ---- log capped: the middle of the output was dropped; the head is above, the tail below ----\n"
DROPPED = "[vcore] ---- {} lines dropped here: the data disk was full ----"
_READ_CHUNK = 64 * 1024
_COPY_BLOCK = 1024 * 1024
_MAX_LINE = 64 * 1024  # a longer line is cut into pieces of this size

LinesListener = Callable[[int, list[str]], None]  # (offset of the first line, lines with timestamps)


def log_path(logs_dir: Path, job_id: int) -> Path:
    """The one place a log path is made: from the job id, never from anything a request sent."""
    return logs_dir / f"{int(job_id)}.log"


def _stamp() -> bytes:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3].encode() + b"Z "


class JobLog:
    """Appends timestamped lines to one job's log, capped at `max_bytes`. Thread-safe."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int,
        listener: LinesListener | None = None,
        on_close: Callable[[JobLog], None] | None = None,
        on_full: Callable[[], None] | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._size = os.fstat(self._fd).st_size
        self._max = max_bytes
        self._head_limit = max_bytes // 2
        self._tail_keep = max_bytes // 4
        self._tail_start = self._find_tail_start()
        self._listener = listener
        self._partial = b""
        self._dropped = 0  # lines lost to a full disk since the last write that fitted
        self._lock = threading.Lock()
        self.closed = False
        self.compactions = 0  # how often the cap rewrote the file (cluster/logship.py ships it anew)
        self._on_close = on_close
        self._on_full = on_full

    def note(self, text: str) -> None:
        """One line of our own (attempt headers, exit codes, kill notices)."""
        self._write_lines([f"[vcore] {text}".encode() + b"\n"])

    def feed(self, data: bytes) -> None:
        """Raw output: complete lines are written now; a partial line waits for its end (or EOF)."""
        data = self._partial + data
        lines = data.splitlines(keepends=True)
        self._partial = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        if len(self._partial) >= _MAX_LINE:
            lines.append(self._partial + b"\n")
            self._partial = b""
        if lines:
            self._write_lines(lines)

    def pump(self, stream: IO[bytes]) -> None:
        """Copy a child's output to the log until EOF; run in its own thread."""
        fd = stream.fileno()
        try:
            while chunk := os.read(fd, _READ_CHUNK):
                self.feed(chunk)
        except OSError:
            pass
        finally:
            if self._partial:
                self._write_lines([self._partial + b"\n"])
                self._partial = b""

    @property
    def size(self) -> int:
        return self._size

    def read_from(self, offset: int) -> tuple[bytes, int, int]:
        """(the bytes from `offset` to the end, the size, the compactions so far), consistently."""
        with self._lock:
            if self.closed:
                return b"", self._size, self.compactions
            return os.pread(self._fd, max(self._size - offset, 0), offset), self._size, self.compactions

    def close(self) -> None:
        if self._on_close is not None and not self.closed:
            self._on_close(self)  # before the file closes: the last lines are shipped (issue 20)
        with self._lock:
            if not self.closed:
                if self._dropped:
                    self._append_dropped(_stamp())  # a last try; with no room the hole stays unmarked
                self.closed = True
                os.close(self._fd)

    def _write_lines(self, lines: list[bytes]) -> None:
        stamp = _stamp()
        data = b"".join(stamp + line.rstrip(b"\r\n")[:_MAX_LINE] + b"\n" for line in lines)
        written: list[tuple[int, bytes]] = []
        with self._lock:
            if self.closed:
                return  # a process that escaped its group still writing after the job ended
            first_loss = not self._dropped
            if self._dropped:
                marker = self._append_dropped(stamp)
                if marker is None:
                    self._dropped += len(lines)
                    return
                written.append(marker)
            offset = self._try_append(data)
            if offset is None:
                self._dropped += len(lines)
            else:
                written.append((offset, data))
        if offset is None and first_loss and self._on_full is not None:
            self._on_full()
        if self._listener is not None:
            for at, chunk in written:
                self._listener(at, chunk.decode("utf-8", errors="replace").splitlines())

    def _append_dropped(self, stamp: bytes) -> tuple[int, bytes] | None:
        marker = stamp + DROPPED.format(self._dropped).encode() + b"\n"
        offset = self._try_append(marker)
        if offset is None:
            return None
        self._dropped = 0
        return offset, marker

    def _try_append(self, data: bytes) -> int | None:
        """`_append`, or None when the disk is full (the file cut back to its last whole line)."""
        try:
            return self._append(data)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            os.ftruncate(self._fd, self._size)
            return None

    def _append(self, data: bytes) -> int:
        if self._size + len(data) > self._max:
            self._compact(len(data))
        offset = self._size
        if os.pwrite(self._fd, data, offset) < len(data):  # the disk filled up halfway
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._size += len(data)
        return offset

    def _compact(self, incoming: int) -> None:
        """Make room for `incoming` bytes: keep the head, the marker and the newest whole lines."""
        keep = max(self._tail_keep - incoming, 0)
        if self._tail_start is None:
            head_end = self._line_start_before(min(self._size, self._head_limit))
            tail_start = head_end + len(MARKER)
            source = self._line_start_after(max(self._size - keep, tail_start))
            os.pwrite(self._fd, MARKER, head_end)  # lands in the dropped middle, before `source`
            self._tail_start = tail_start
        else:
            source = self._line_start_after(max(self._size - keep, self._tail_start))
        target = self._tail_start
        while source < self._size:
            block = os.pread(self._fd, min(_COPY_BLOCK, self._size - source), source)
            os.pwrite(self._fd, block, target)
            source += len(block)
            target += len(block)
        self._size = target
        os.ftruncate(self._fd, self._size)
        self.compactions += 1

    def _line_start_before(self, position: int) -> int:
        """The start of the line holding `position` (or `position` itself at a line start)."""
        start = max(position - _MAX_LINE - 64, 0)
        block = os.pread(self._fd, position - start, start)
        cut = block.rfind(b"\n")
        return start + cut + 1 if cut >= 0 else position

    def _line_start_after(self, position: int) -> int:
        if position == 0:
            return 0
        block = os.pread(self._fd, _MAX_LINE + 64, position - 1)
        cut = block.find(b"\n")
        return position + cut if cut >= 0 else position

    def _find_tail_start(self) -> int | None:
        """A log capped by an earlier attempt already has its marker: find where its tail begins."""
        if self._size <= self._head_limit:
            return None
        block = os.pread(self._fd, _MAX_LINE * 2 + len(MARKER), max(self._head_limit - _MAX_LINE, 0))
        found = block.find(MARKER)
        if found < 0:
            return None
        return max(self._head_limit - _MAX_LINE, 0) + found + len(MARKER)
