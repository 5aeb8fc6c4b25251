"""Worker nodes in the browser (issue 20): the dashboard's Nodes card shows the worker and notices when
it is lost, and a web node shows the log of a job that ran on a worker node."""

from __future__ import annotations

import signal
from typing import Any

from playwright.sync_api import expect

from tests.support.browser import log_in
from tests.support.cluster import CLUSTER_MARKS, Cluster, admin
from tests.support.jobs import create, wait_status
from tests.support.waiting import wait_for

pytestmark = CLUSTER_MARKS


def test_the_dashboard_lists_the_nodes_and_a_web_node_shows_a_workers_log(browser: Any, cluster: Cluster) -> None:
    web = cluster.web()
    worker = cluster.worker("--queue", "default")
    auth = admin(web)
    created = create(web.http, auth, type="command", command="echo hello from the worker node")
    wait_status(web.http, auth, created["id"], "done", timeout=90)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        log_in(page, web.url)
        nodes = page.locator("#nodes")
        expect(nodes.locator("tr", has_text="worker")).to_contain_text("alive")
        expect(nodes.locator("tr", has_text="worker")).to_contain_text("default")
        expect(nodes).to_contain_text("fires the schedulers")  # the web node holds the lease
        page.goto(f"{web.url}/jobs/{created['id']}")
        expect(page.locator("#job-log")).to_contain_text("hello from the worker node")
        worker.send_signal(signal.SIGKILL)
        page.goto(f"{web.url}/")

        def lost() -> bool:
            page.reload()
            return "lost" in page.locator("#nodes").inner_text()

        wait_for(lost, 60, interval=1)
    finally:
        context.close()
