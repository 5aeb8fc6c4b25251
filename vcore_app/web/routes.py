"""The one list of routes: the whole HTTP surface in one place."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import BaseRoute, Route, WebSocketRoute

from vcore_app.web import live
from vcore_app.web.api import (
    apikeys,
    backups,
    docs,
    health,
    job_cleanup,
    jobs,
    login,
    notifications,
    ops,
    password,
    schedulers,
    users,
)
from vcore_app.web.api import llm as llm_api
from vcore_app.web.api import plugins as plugin_api
from vcore_app.web.api import scripts as script_api
from vcore_app.web.api import tools as tool_api
from vcore_app.web.api import workers as workers_api
from vcore_app.web.pages import applog, dashboard, plugins, profile, scripts, setup, tools
from vcore_app.web.pages import jobs as job_pages
from vcore_app.web.pages import llm as llm_pages
from vcore_app.web.pages import login as login_pages
from vcore_app.web.pages import notifications as notification_pages
from vcore_app.web.pages import ops as ops_pages
from vcore_app.web.pages import password as password_pages
from vcore_app.web.pages import schedulers as scheduler_pages
from vcore_app.web.pages import users as user_pages
from vcore_app.web.public import API
from vcore_app.web.static import static_routes


class IdConvertor(Convertor[int]):
    """`{job_id:id}`: digits up to ID_MAX. A longer number matches no route (404) instead of
    overflowing SQLite's 64-bit integers."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


def routes(plugin_routes: BaseRoute | None = None) -> list[BaseRoute]:
    """Ours, then the plugins' (web/plugin_surface.py: after ours, before /static)."""
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        # -- issue 17: operations --
        Route("/readyz", ops.readyz, methods=["GET"]),
        Route("/metrics", ops.metrics, methods=["GET"]),
        Route(f"{API}/jobs", job_cleanup.delete_jobs, methods=["DELETE"]),
        Route(f"{API}/backups", backups.list_backups, methods=["GET"]),
        Route(f"{API}/backups", backups.create_backup, methods=["POST"]),
        Route(f"{API}/backups/{{name}}", backups.download_backup, methods=["GET"]),
        Route(f"{API}/audit", ops.list_audit, methods=["GET"]),
        Route(f"{API}/housekeeping", ops.housekeeping_status, methods=["GET"]),
        Route(f"{API}/housekeeping", ops.housekeeping_run, methods=["POST"]),
        Route("/backups", ops_pages.backups_page, methods=["GET"]),
        Route("/backups", ops_pages.backup_now, methods=["POST"]),
        Route("/audit", ops_pages.audit_page, methods=["GET"]),
        Route("/jobs/delete", ops_pages.delete_selected, methods=["POST"]),
        Route("/housekeeping/run", ops_pages.run_housekeeping, methods=["POST"]),
        Route(f"{API}/openapi.json", docs.openapi_json, methods=["GET"]),
        Route("/docs", docs.swagger_page, methods=["GET"]),
        Route("/redoc", docs.redoc_page, methods=["GET"]),
        Route("/setup", setup.setup_page, methods=["GET"]),
        Route("/setup", setup.setup_submit, methods=["POST"]),
        Route(f"{API}/login/access-token", login.access_token, methods=["POST"]),
        Route(f"{API}/login/refresh-token", login.refresh_token, methods=["POST"]),
        Route(f"{API}/login/test-token", login.test_token, methods=["POST"]),
        Route(f"{API}/jobs", jobs.list_jobs, methods=["GET"]),
        Route(f"{API}/jobs", jobs.create_job, methods=["POST"]),
        Route(f"{API}/jobs/batch", jobs.create_jobs, methods=["POST"]),  # issue 13
        Route(f"{API}/jobs/start-consumer", jobs.start_consumer, methods=["POST"]),
        Route(f"{API}/jobs/stop-consumer", jobs.stop_consumer, methods=["POST"]),
        Route(f"{API}/jobs/push-jobs-to-websocket", jobs.push_jobs, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:id}}", jobs.get_job, methods=["GET"]),
        Route(f"{API}/jobs/{{job_id:id}}", jobs.update_job, methods=["PUT"]),
        Route(f"{API}/jobs/{{job_id:id}}", jobs.delete_job, methods=["DELETE"]),
        Route(f"{API}/jobs/{{job_id:id}}/status", jobs.set_status, methods=["PUT"]),
        Route(f"{API}/jobs/{{job_id:id}}/kill", jobs.kill_job, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:id}}/rerun", jobs.rerun_job, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:id}}/log", jobs.job_log, methods=["GET"]),
        # LLM helpers (vcore_app/llm/)
        Route(f"{API}/jobs/{{job_id:id}}/explain", llm_api.explain_job, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:id}}/explanation", llm_api.job_explanation, methods=["GET"]),
        Route(f"{API}/llm/complete", llm_api.complete, methods=["POST"]),
        Route(f"{API}/llm/usage", llm_api.usage, methods=["GET"]),
        WebSocketRoute(f"{API}/ws/job-queue", live.job_queue_socket),
        Route(f"{API}/workers", workers_api.list_workers, methods=["GET"]),
        Route(f"{API}/logout", login.logout, methods=["POST"]),
        Route(f"{API}/register", users.register, methods=["POST"]),
        Route(f"{API}/password-recovery/{{email}}", password.password_recovery, methods=["POST"]),
        Route(f"{API}/reset-password", password.reset_password, methods=["POST"]),
        Route(f"{API}/users/me", users.me, methods=["GET"]),
        Route(f"{API}/users/me", users.update_me, methods=["PUT"]),
        Route(f"{API}/users/me/password", users.update_my_password, methods=["PUT"]),
        Route(f"{API}/users/me/logout-all", users.logout_all, methods=["POST"]),
        Route(f"{API}/users/me/api-keys", apikeys.list_keys, methods=["GET"]),
        Route(f"{API}/users/me/api-keys", apikeys.create_key, methods=["POST"]),
        Route(f"{API}/users/me/api-keys/{{id:id}}", apikeys.delete_key, methods=["DELETE"]),
        Route(f"{API}/users", users.list_users, methods=["GET"]),
        Route(f"{API}/users", users.create_user, methods=["POST"]),
        Route(f"{API}/users/{{id:id}}", users.get_user, methods=["GET"]),
        Route(f"{API}/users/{{id:id}}", users.update_user, methods=["PUT"]),
        Route(f"{API}/users/{{id:id}}", users.delete_user, methods=["DELETE"]),
        Route(f"{API}/job-schedulers", schedulers.list_schedulers, methods=["GET"]),
        Route(f"{API}/job-schedulers", schedulers.create_scheduler, methods=["POST"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:id}}", schedulers.get_scheduler, methods=["GET"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:id}}", schedulers.update_scheduler, methods=["PUT"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:id}}", schedulers.delete_scheduler, methods=["DELETE"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:id}}/toggle", schedulers.toggle_scheduler, methods=["POST"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:id}}/preview", schedulers.preview_scheduler, methods=["GET"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:id}}/run-now", schedulers.run_now, methods=["POST"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:id}}/jobs", schedulers.scheduler_jobs, methods=["GET"]),
        Route(f"{API}/job-schedulers/preview", schedulers.preview_draft, methods=["POST"]),
        Route(f"{API}/notifications/test", notifications.send_test, methods=["POST"]),
        Route(f"{API}/notifications/channels", notifications.list_channels, methods=["GET"]),
        Route(f"{API}/notifications/channels", notifications.create_channel, methods=["POST"]),
        Route(f"{API}/notifications/channels/{{channel_id:id}}", notifications.get_channel, methods=["GET"]),
        Route(f"{API}/notifications/channels/{{channel_id:id}}", notifications.update_channel, methods=["PUT"]),
        Route(f"{API}/notifications/channels/{{channel_id:id}}", notifications.delete_channel, methods=["DELETE"]),
        Route(f"{API}/notifications/deliveries", notifications.list_deliveries, methods=["GET"]),
        Route("/login", login_pages.login_page, methods=["GET"]),
        Route("/login", login_pages.login_submit, methods=["POST"]),
        Route("/logout", login_pages.logout_page, methods=["GET"]),
        Route("/logout", login_pages.logout_submit, methods=["POST"]),
        Route("/forgot-password", password_pages.forgot_page, methods=["GET"]),
        Route("/forgot-password", password_pages.forgot_submit, methods=["POST"]),
        Route("/reset-password", password_pages.reset_page, methods=["GET"]),
        Route("/reset-password", password_pages.reset_submit, methods=["POST"]),
        Route("/", dashboard.dashboard, methods=["GET"]),
        Route("/queues/{name}/{action}", dashboard.queue_consumer, methods=["POST"]),
        Route("/schedulers", scheduler_pages.schedulers_index, methods=["GET"]),
        Route("/schedulers/new", scheduler_pages.new_scheduler_page, methods=["GET"]),
        Route("/schedulers/new", scheduler_pages.save_scheduler, methods=["POST"]),
        Route("/schedulers/{scheduler_id:id}", scheduler_pages.scheduler_page, methods=["GET"]),
        Route("/schedulers/{scheduler_id:id}", scheduler_pages.save_scheduler, methods=["POST"]),
        Route("/schedulers/{scheduler_id:id}/toggle", scheduler_pages.toggle_scheduler, methods=["POST"]),
        Route("/schedulers/{scheduler_id:id}/run-now", scheduler_pages.run_scheduler_now, methods=["POST"]),
        Route("/schedulers/{scheduler_id:id}/delete", scheduler_pages.delete_scheduler, methods=["POST"]),
        Route("/notifications", notification_pages.notifications_page, methods=["GET"]),
        Route("/notifications/channels", notification_pages.create_channel, methods=["POST"]),
        Route("/notifications/channels/{channel_id:id}/toggle", notification_pages.toggle_channel, methods=["POST"]),
        Route("/notifications/channels/{channel_id:id}/delete", notification_pages.delete_channel, methods=["POST"]),
        Route("/notifications/channels/{channel_id:id}/test", notification_pages.test_channel, methods=["POST"]),
        Route("/scripts", scripts.scripts_index, methods=["GET"]),
        Route("/scripts/{name}", scripts.script_page, methods=["GET"]),
        Route("/scripts/{name}", scripts.run_script, methods=["POST"]),
        Route("/users", user_pages.users_list, methods=["GET"]),
        Route("/users/new", user_pages.new_user_page, methods=["GET"]),
        Route("/users/new", user_pages.create_user, methods=["POST"]),
        Route("/users/{id:id}", user_pages.user_page, methods=["GET"]),
        Route("/users/{id:id}", user_pages.update_user, methods=["POST"]),
        Route("/users/{id:id}/set", user_pages.set_flag, methods=["POST"]),
        Route("/users/{id:id}/delete", user_pages.delete_user, methods=["POST"]),
        Route("/profile", profile.profile_page, methods=["GET"]),
        Route("/profile", profile.update_profile, methods=["POST"]),
        Route("/profile/password", profile.change_password, methods=["POST"]),
        Route("/profile/logout-everywhere", profile.logout_everywhere, methods=["POST"]),
        Route("/profile/api-keys", profile.create_api_key, methods=["POST"]),
        Route("/profile/api-keys/{id:id}/delete", profile.delete_api_key, methods=["POST"]),
        Route("/logs", applog.logs_page, methods=["GET"]),
        Route("/logs/tail", applog.logs_tail, methods=["GET"]),
        Route("/jobs", job_pages.jobs_page, methods=["GET"]),
        Route("/jobs/new", job_pages.new_job_page, methods=["GET"]),
        Route("/jobs/new", job_pages.create_job, methods=["POST"]),
        Route("/jobs/{job_id:id}", job_pages.job_page, methods=["GET"]),
        Route("/jobs/{job_id:id}/kill", job_pages.kill_job, methods=["POST"]),
        Route("/jobs/{job_id:id}/rerun", job_pages.rerun_job, methods=["POST"]),
        Route("/jobs/{job_id:id}/delete", job_pages.delete_job, methods=["POST"]),
        Route("/jobs/{job_id:id}/explain", llm_pages.explain_job, methods=["POST"]),  # LLM helpers
        Route("/tools", tools.tools_index, methods=["GET"]),
        Route("/tools/{name}", tools.tool_page, methods=["GET"]),
        Route("/tools/{name}", tools.run_tool, methods=["POST"]),
        Route("/tools/{name}/stream", tools.stream_tool, methods=["POST"]),  # LLM helpers: "Ask an LLM"
        # plugins (issue 16)
        Route(f"{API}/plugins", plugin_api.list_plugins, methods=["GET"]),
        Route(f"{API}/plugins/reload", plugin_api.reload_plugins, methods=["POST"]),
        Route(f"{API}/tools", tool_api.list_tools, methods=["GET"]),
        Route(f"{API}/tools/{{name}}", tool_api.run_tool, methods=["POST"]),
        Route(f"{API}/scripts", script_api.list_scripts, methods=["GET"]),
        Route(f"{API}/scripts/{{name}}/run", script_api.run_script, methods=["POST"]),
        Route("/plugins", plugins.plugins_page, methods=["GET"]),
        Route("/plugins/reload", plugins.reload_plugins, methods=["POST"]),
        *([plugin_routes] if plugin_routes is not None else []),
        *static_routes(),
    ]
