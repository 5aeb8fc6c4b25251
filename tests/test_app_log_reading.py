"""Reading logs/vcore.log for the viewer: the tail in whole lines, then only what was added, and a
fresh start after a rotation."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.apps import RunningApp
from tests.support.waiting import wait_for
from vcore_app.applog import read_app_log


def _lines(n: int, start: int = 0) -> str:
    return "".join(f"line {i}\n" for i in range(start, start + n))


def test_the_first_read_is_the_tail_in_whole_lines(tmp_path: Path) -> None:
    log = tmp_path / "vcore.log"
    log.write_text(_lines(1000))
    chunk = read_app_log(log, offset=None, file_id=None, tail_bytes=100)
    assert chunk.reset and chunk.offset == log.stat().st_size
    assert chunk.lines[-1] == "line 999" and all(line.startswith("line ") for line in chunk.lines)
    assert sum(len(line) + 1 for line in chunk.lines) <= 100


def test_then_only_new_whole_lines_and_a_partial_line_waits(tmp_path: Path) -> None:
    log = tmp_path / "vcore.log"
    log.write_text(_lines(3))
    first = read_app_log(log, offset=None, file_id=None, tail_bytes=1000)
    with open(log, "a") as fh:
        fh.write("line 3\nhalf a li")
    second = read_app_log(log, offset=first.offset, file_id=first.file_id, tail_bytes=1000)
    assert (second.reset, second.lines) == (False, ["line 3"])
    with open(log, "a") as fh:
        fh.write("ne\n")
    third = read_app_log(log, offset=second.offset, file_id=second.file_id, tail_bytes=1000)
    assert third.lines == ["half a line"]


def test_a_rotated_or_truncated_file_starts_over(tmp_path: Path) -> None:
    log = tmp_path / "vcore.log"
    log.write_text(_lines(50))
    seen = read_app_log(log, offset=None, file_id=None, tail_bytes=10_000)
    os.rename(log, tmp_path / "vcore.2025-01-01.log")  # what loguru's rotation does
    log.write_text(_lines(60, start=100))  # already longer than the old offset: only the identity tells
    rotated = read_app_log(log, offset=seen.offset, file_id=seen.file_id, tail_bytes=10_000)
    assert rotated.reset and rotated.lines[0] == "line 100"
    log.write_text("line new\n")  # same file, shorter than the offset
    truncated = read_app_log(log, offset=rotated.offset, file_id=rotated.file_id, tail_bytes=10_000)
    assert truncated.reset and truncated.lines == ["line new"]


def test_a_reader_far_behind_gets_a_fresh_tail_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    log = tmp_path / "vcore.log"
    assert read_app_log(log, offset=None, file_id=None, tail_bytes=100).lines == []
    log.write_text("line 0\n")
    seen = read_app_log(log, offset=None, file_id=None, tail_bytes=100)
    with open(log, "a") as fh:
        fh.write(_lines(100, start=1))
    behind = read_app_log(log, offset=seen.offset, file_id=seen.file_id, tail_bytes=100)
    assert behind.reset and behind.lines[-1] == "line 100" and "line 1" not in behind.lines


def test_static_files_are_logged_only_when_they_fail(running_app: RunningApp) -> None:
    assert running_app.http.get("/static/css/app.css").status_code == 200
    assert running_app.http.get("/static/css/no-such.css").status_code == 404
    assert running_app.http.get("/healthz").status_code == 200
    wait_for(lambda: "GET /healthz 200" in running_app.output())
    output = running_app.output()
    assert "GET /static/css/no-such.css 404" in output
    assert "/static/css/app.css" not in output
