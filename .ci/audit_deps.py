"""Fail when an installed dependency of vcore-app has a known vulnerability (`make lint` runs this).

The set checked is what `pip install -e '.[test,cluster,lint,binary]'` put into this environment: vcore-app's
requirements with those extras, followed through every package's own requirements. The tools of the
virtualenv itself (pip, setuptools) are not part of it. An extra that is not installed is reported.

Why not pip-audit: its PyPI service asks the per-release JSON API (`/pypi/NAME/VERSION/json`), which
the PyPI that CI reaches does not answer, and then it reports every package as "not found" and exits 0;
its OSV service is not reachable from CI at all. PyPI's per-project JSON API does answer, with the
advisories (PYSEC, GHSA, from OSV) of the project's latest release. So each package is looked up by its
release when that answers, and otherwise by its project, which is exact only for the latest release: a
package older than its latest release cannot be audited that way. Such a package is named in a warning
rather than failing the check: a dependency one release behind (a new release comes out every week
somewhere in the tree) would otherwise turn CI red overnight with no vulnerability in sight.

Exit status: 1 when a package has a known vulnerability, or when most packages could not be audited
(the service did not answer, so the check did not really run); 0 otherwise.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, distribution
from typing import Any

import httpx
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = "vcore-app"
EXTRAS = frozenset({"test", "cluster", "lint", "binary"})
JSON_API = os.environ.get("PYPI_JSON_API", "https://pypi.org/pypi")


@dataclass
class Finding:
    name: str
    version: str
    advisories: list[str] = field(default_factory=list)
    problem: str = ""


def installed_closure(root: str, extras: frozenset[str]) -> tuple[dict[str, str], set[str]]:
    """(name -> installed version) of every package `root` needs with `extras`; and the names not installed."""
    found: dict[str, str] = {}
    missing: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(root, extras)]
    while todo:
        name, wanted = todo.pop()
        key = canonicalize_name(name)
        if (key, wanted) in seen:
            continue
        seen.add((key, wanted))
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            missing.add(key)
            continue
        found[key] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in wanted or {""}):
                todo.append((requirement.name, frozenset(requirement.extras)))
    found.pop(canonicalize_name(root))
    return found, missing


def audit(client: httpx.Client, name: str, version: str) -> Finding:
    finding = Finding(name, version)
    try:
        response = client.get(f"{JSON_API}/{name}/{version}/json")
        if response.status_code == 404:
            response = client.get(f"{JSON_API}/{name}/json")
            response.raise_for_status()
            latest = response.json()["info"]["version"]
            if Version(latest) != Version(version):
                finding.problem = f"not auditable here: only the advisories of the latest release ({latest}) are known"
                return finding
        response.raise_for_status()
        advisories: list[dict[str, Any]] = response.json().get("vulnerabilities") or []
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        finding.problem = f"lookup failed: {type(exc).__name__}: {exc}"
        return finding
    for advisory in advisories:
        if advisory.get("withdrawn"):
            continue
        fixed = ", ".join(advisory.get("fixed_in") or []) or "no fixed release"
        finding.advisories.append(f"{advisory['id']} (fixed in: {fixed}) {advisory.get('link') or ''}".rstrip())
    return finding


def main() -> int:
    packages, missing = installed_closure(ROOT, EXTRAS)
    with httpx.Client(timeout=30, follow_redirects=True) as client, ThreadPoolExecutor(8) as pool:
        findings = list(pool.map(lambda item: audit(client, *item), sorted(packages.items())))
    for finding in findings:
        for line in finding.advisories:
            print(f"{finding.name} {finding.version}: {line}")
        if finding.problem:
            print(f"warning: {finding.name} {finding.version}: {finding.problem}")
    if missing:
        print(f"not installed, so not audited: {', '.join(sorted(missing))}")
    vulnerable = sum(len(finding.advisories) for finding in findings)
    unaudited = sum(1 for finding in findings if finding.problem)
    print(f"audited {len(findings) - unaudited} of {len(findings)} packages: {vulnerable} known vulnerabilities")
    return 1 if vulnerable or unaudited * 2 > len(findings) else 0


if __name__ == "__main__":
    sys.exit(main())
