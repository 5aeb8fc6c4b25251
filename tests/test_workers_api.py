"""GET /api/v1/workers and the dashboard's Nodes card on the appliance alone (issue 20): one node, doing
everything, alive; only a superuser sees them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

pytestmark = pytest.mark.both_databases


def test_the_appliance_is_one_node_that_runs_both_queues_and_the_scheduler(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/workers", headers=admin_headers)
    assert response.status_code == 200, response.text
    [node] = response.json()["items"]
    assert node["role"] == "all" and node["alive"] and node["scheduler"]
    assert node["queues"] == ["default", "reserved"] and node["running"] == 0
    page = client.get("/", headers=admin_headers)
    assert 'id="nodes"' in page.text and "web and workers" in page.text


def test_a_regular_user_sees_no_nodes(client: TestClient, make_user: Callable[..., dict[str, str]]) -> None:
    alice = make_user()
    assert client.get("/api/v1/workers", headers=alice).status_code == 403
    assert 'id="nodes"' not in client.get("/", headers=alice).text
