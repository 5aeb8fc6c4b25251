"""Our own scripts: offered through the `register_scripts` hook (vcore_app/plugins/builtins.py) like
any plugin's, and the default of a ScriptRegistry built without plugins."""

from __future__ import annotations

from vcore_app.scripts.backup import Backup
from vcore_app.scripts.base import Script
from vcore_app.scripts.disk_usage import DiskUsage
from vcore_app.scripts.http_check import HttpCheck
from vcore_app.scripts.llm_prompt import LlmPrompt

BUILT_INS: tuple[type[Script], ...] = (DiskUsage, HttpCheck, LlmPrompt, Backup)
