"""Plugin start-up cost: importing the app, then loading the plugins (built-ins with every Quick Tool
module, plus N small data-folder plugins), each in a fresh interpreter. Prints the load time as a
ratio of the app's import time: the figure to watch, since absolute times swing with machine load.

Run: .venv/bin/python bench/plugins.py [--runs 5] [--folder-plugins 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import vcore_app.app, vcore_app.runtime
t1 = time.perf_counter()
from vcore_app.plugins.manager import Plugins
plugins = Plugins(plugins_dir=Path(sys.argv[1]), env_name="local", quiet=True)
plugins.scripts(); plugins.quick_tools(); plugins.items("register_routes")
t2 = time.perf_counter()
print(json.dumps({"app": t1 - t0, "plugins": t2 - t1, "loaded": len(plugins.records)}))
"""

PLUGIN = """
from pydantic import BaseModel
from vcore_app.tools import QuickTool

class Tool{n}(QuickTool):
    name = "bench-{n}"
    title = "Bench {n}"
    description = "A tool that does nothing."

    class Input(BaseModel):
        text: str = ""

    def run(self, data):
        return data.text
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--folder-plugins", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plugins_dir = Path(folder) / "plugins"
        plugins_dir.mkdir(mode=0o700)
        for n in range(args.folder_plugins):
            (plugins_dir / f"bench_{n}.py").write_text(PLUGIN.format(n=n))
        runs = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", PROBE, str(plugins_dir)], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(args.runs)
        ]
    app = statistics.median(run["app"] for run in runs)
    load = statistics.median(run["plugins"] for run in runs)
    print(f"app import        {app * 1000:8.1f} ms (median of {args.runs})")
    print(
        f"plugins load      {load * 1000:8.1f} ms "
        f"({runs[0]['loaded']} plugins: built-ins + {args.folder_plugins} files)"
    )
    print(f"ratio load/import {load / app:8.2f}")


if __name__ == "__main__":
    main()
