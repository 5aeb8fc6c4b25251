"""What the tests need from the machine beyond the Python packages, group by group.

One table serves both ends: `scripts/test-setup.sh` asks it which Debian packages are missing and installs
them (as root, with apt-get), and conftest.py names the groups that will still be skipped, and why, when
the run starts and again in its summary. Standard library only: the setup script runs it with the
system's python3 before the virtualenv exists.

Run `python3 -m tests.support.machine packages` for the missing Debian packages, one a line, or
`python3 -m tests.support.machine report` for the groups that will be skipped.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BINARY = ROOT / "dist" / "vcore-app"


def postgres_bin() -> Path | None:
    """The folder of Debian's newest PostgreSQL server programs (initdb, pg_ctl): Debian keeps them
    off PATH under /usr/lib/postgresql/<version>/bin; a PATH entry counts too (other systems)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass(frozen=True)
class Group:
    """Tests that need one thing the machine may lack, and how to get it."""

    name: str
    tests: str
    needs: str
    present: Callable[[], bool]
    debian_package: str | None = None  # what scripts/test-setup.sh installs when `present()` is false
    otherwise: str = ""  # how to get it when it is no Debian package

    @property
    def skip_reason(self) -> str:
        how = (
            f"apt-get install {self.debian_package}, which scripts/test-setup.sh does as root"
            if self.debian_package
            else self.otherwise
        )
        return f"{self.needs} is missing ({how})"


GROUPS = (
    Group(
        "browser",
        "tests/test_browser_*.py",
        "Chromium at /usr/bin/chromium",
        lambda: Path(CHROMIUM).exists(),
        debian_package="chromium",
    ),
    Group(
        "systemd unit",
        "tests/test_packaging.py (systemd-analyze verify)",
        "systemd-analyze",
        lambda: shutil.which("systemd-analyze") is not None,
        debian_package="systemd",
    ),
    Group(
        "desktop entry",
        "tests/test_packaging.py (desktop-file-validate)",
        "desktop-file-validate",
        lambda: shutil.which("desktop-file-validate") is not None,
        debian_package="desktop-file-utils",
    ),
    Group(
        "openssl",
        "tests/test_exposure.py (TLS) and tests/test_notify_channels.py (mail over STARTTLS and implicit TLS)",
        "the openssl command line (it makes the test servers' certificates)",
        lambda: shutil.which("openssl") is not None,
        debian_package="openssl",
    ),
    Group(
        "git",
        "tests/test_tool_api.py (the git status Quick Tool runs git itself)",
        "git",
        lambda: shutil.which("git") is not None,
        debian_package="git",
    ),
    Group(
        "container",
        "tests/test_container.py (the image's build and smoke test, also only with VCORE_CONTAINER_TEST=1)",
        "podman",
        lambda: shutil.which("podman") is not None,
        debian_package="podman",
    ),
    Group(
        "disk full",
        "tests/test_disk_full.py (the data folder on a small tmpfs that a job fills)",
        "root and mount(8)",
        lambda: os.geteuid() == 0 and shutil.which("mount") is not None,
        otherwise="run the tests as root, as .ci/run does; `mount` is Debian's package mount",
    ),
    Group(
        "postgresql",
        "the PostgreSQL half of the database tests (tests marked both_databases, test_postgres_*.py, test_db_copy.py)",
        "PostgreSQL's server (initdb, pg_ctl)",
        lambda: postgres_bin() is not None,
        debian_package="postgresql",
    ),
    Group(
        "redis",
        "the Redis queue and live-event tests",
        "redis-server",
        lambda: shutil.which("redis-server") is not None,
        debian_package="redis-server",
    ),
    Group(
        "binary",
        "tests/test_binary.py",
        "the built dist/vcore-app",
        BINARY.is_file,
        otherwise="`make binary`; `make test` builds it when missing or older than the code",
    ),
)


def group(name: str) -> Group:
    return next(found for found in GROUPS if found.name == name)


def missing() -> list[Group]:
    """The groups whose tests will skip on this machine."""
    return [found for found in GROUPS if not found.present()]


def report() -> list[str]:
    """Lines that name each group that will be skipped and why; one line when none is."""
    gaps = missing()
    if not gaps:
        return [f"every test group can run on this machine ({', '.join(found.name for found in GROUPS)})"]
    return [f"SKIPPED group {found.name!r} ({found.tests}): {found.skip_reason}" for found in gaps]


if __name__ == "__main__":
    if sys.argv[1:] == ["packages"]:
        for found in missing():
            if found.debian_package:
                print(found.debian_package)
    elif sys.argv[1:] == ["report"]:
        print("\n".join(report()))
    else:
        print("usage: python3 -m tests.support.machine packages|report", file=sys.stderr)
        sys.exit(2)
