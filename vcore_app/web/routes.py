"""The one list of routes: the whole HTTP surface in one place."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, WebSocketRoute

from vcore_app import live
from vcore_app.web.api import apikeys, health, jobs, login, password, schedulers, users
from vcore_app.web.api import plugins as plugin_api
from vcore_app.web.api import scripts as script_api
from vcore_app.web.api import tools as tool_api
from vcore_app.web.pages import (
    applog,
    dashboard,
    plugins,
    profile,
    scripts,
    setup,
    tools,
)
from vcore_app.web.pages import jobs as job_pages
from vcore_app.web.pages import login as login_pages
from vcore_app.web.pages import password as password_pages
from vcore_app.web.pages import schedulers as scheduler_pages
from vcore_app.web.pages import users as user_pages
from vcore_app.web.static import static_routes

API = "/api/v1"

# Reachable without credentials; every other path is refused by the gate in auth/backend.py.
# tests/test_auth_sweep.py enumerates the routes and checks each non-public one; a new route must be
# classified there (any user or superuser only) or that test fails.
PUBLIC_PATHS = frozenset({
    "/healthz",
    "/setup",  # opens only with the one-time token (first_run.py)
    "/login",
    "/logout",  # logging out needs no session (and clears a stale one)
    "/forgot-password",  # one answer for every address (auth/recovery.py)
    "/reset-password",  # works only with a valid, unused reset link
    f"{API}/login/access-token",
    f"{API}/login/refresh-token",
    f"{API}/register",  # refused with 403 unless USERS_OPEN_REGISTRATION
    f"{API}/reset-password",
})
PUBLIC_PREFIXES: tuple[str, ...] = (
    "/static/",
    f"{API}/password-recovery/",
)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def routes(plugin_routes: BaseRoute | None = None) -> list[BaseRoute]:
    """Ours, then the plugins' (web/plugin_surface.py: after ours, before /static)."""
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/setup", setup.setup_page, methods=["GET"]),
        Route("/setup", setup.setup_submit, methods=["POST"]),
        Route(f"{API}/login/access-token", login.access_token, methods=["POST"]),
        Route(f"{API}/login/refresh-token", login.refresh_token, methods=["POST"]),
        Route(f"{API}/login/test-token", login.test_token, methods=["POST"]),
        Route(f"{API}/jobs", jobs.list_jobs, methods=["GET"]),
        Route(f"{API}/jobs", jobs.create_job, methods=["POST"]),
        Route(f"{API}/jobs/start-consumer", jobs.start_consumer, methods=["POST"]),
        Route(f"{API}/jobs/stop-consumer", jobs.stop_consumer, methods=["POST"]),
        Route(f"{API}/jobs/push-jobs-to-websocket", jobs.push_jobs, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:int}}", jobs.get_job, methods=["GET"]),
        Route(f"{API}/jobs/{{job_id:int}}", jobs.update_job, methods=["PUT"]),
        Route(f"{API}/jobs/{{job_id:int}}", jobs.delete_job, methods=["DELETE"]),
        Route(f"{API}/jobs/{{job_id:int}}/status", jobs.set_status, methods=["PUT"]),
        Route(f"{API}/jobs/{{job_id:int}}/kill", jobs.kill_job, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:int}}/rerun", jobs.rerun_job, methods=["POST"]),
        Route(f"{API}/jobs/{{job_id:int}}/log", jobs.job_log, methods=["GET"]),
        WebSocketRoute(f"{API}/ws/job-queue", live.job_queue_socket),
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
        Route(f"{API}/users/me/api-keys/{{id:int}}", apikeys.delete_key, methods=["DELETE"]),
        Route(f"{API}/users", users.list_users, methods=["GET"]),
        Route(f"{API}/users", users.create_user, methods=["POST"]),
        Route(f"{API}/users/{{id:int}}", users.get_user, methods=["GET"]),
        Route(f"{API}/users/{{id:int}}", users.update_user, methods=["PUT"]),
        Route(f"{API}/users/{{id:int}}", users.delete_user, methods=["DELETE"]),
        Route(f"{API}/job-schedulers", schedulers.list_schedulers, methods=["GET"]),
        Route(f"{API}/job-schedulers", schedulers.create_scheduler, methods=["POST"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}", schedulers.get_scheduler, methods=["GET"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}", schedulers.update_scheduler, methods=["PUT"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}", schedulers.delete_scheduler, methods=["DELETE"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}/toggle", schedulers.toggle_scheduler, methods=["POST"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}/preview", schedulers.preview_scheduler, methods=["GET"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}/run-now", schedulers.run_now, methods=["POST"]),
        Route(f"{API}/job-schedulers/{{scheduler_id:int}}/jobs", schedulers.scheduler_jobs, methods=["GET"]),
        Route(f"{API}/job-schedulers/preview", schedulers.preview_draft, methods=["POST"]),
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
        Route("/schedulers/{scheduler_id:int}", scheduler_pages.scheduler_page, methods=["GET"]),
        Route("/schedulers/{scheduler_id:int}", scheduler_pages.save_scheduler, methods=["POST"]),
        Route("/schedulers/{scheduler_id:int}/toggle", scheduler_pages.toggle_scheduler, methods=["POST"]),
        Route("/schedulers/{scheduler_id:int}/run-now", scheduler_pages.run_scheduler_now, methods=["POST"]),
        Route("/schedulers/{scheduler_id:int}/delete", scheduler_pages.delete_scheduler, methods=["POST"]),
        Route("/scripts", scripts.scripts_index, methods=["GET"]),
        Route("/scripts/{name}", scripts.script_page, methods=["GET"]),
        Route("/scripts/{name}", scripts.run_script, methods=["POST"]),
        Route("/users", user_pages.users_list, methods=["GET"]),
        Route("/users/new", user_pages.new_user_page, methods=["GET"]),
        Route("/users/new", user_pages.create_user, methods=["POST"]),
        Route("/users/{id:int}", user_pages.user_page, methods=["GET"]),
        Route("/users/{id:int}", user_pages.update_user, methods=["POST"]),
        Route("/users/{id:int}/set", user_pages.set_flag, methods=["POST"]),
        Route("/users/{id:int}/delete", user_pages.delete_user, methods=["POST"]),
        Route("/profile", profile.profile_page, methods=["GET"]),
        Route("/profile", profile.update_profile, methods=["POST"]),
        Route("/profile/password", profile.change_password, methods=["POST"]),
        Route("/profile/logout-everywhere", profile.logout_everywhere, methods=["POST"]),
        Route("/profile/api-keys", profile.create_api_key, methods=["POST"]),
        Route("/profile/api-keys/{id:int}/delete", profile.delete_api_key, methods=["POST"]),
        Route("/logs", applog.logs_page, methods=["GET"]),
        Route("/logs/tail", applog.logs_tail, methods=["GET"]),
        Route("/jobs", job_pages.jobs_page, methods=["GET"]),
        Route("/jobs/new", job_pages.new_job_page, methods=["GET"]),
        Route("/jobs/new", job_pages.create_job, methods=["POST"]),
        Route("/jobs/{job_id:int}", job_pages.job_page, methods=["GET"]),
        Route("/jobs/{job_id:int}/kill", job_pages.kill_job, methods=["POST"]),
        Route("/jobs/{job_id:int}/rerun", job_pages.rerun_job, methods=["POST"]),
        Route("/jobs/{job_id:int}/delete", job_pages.delete_job, methods=["POST"]),
        Route("/tools", tools.tools_index, methods=["GET"]),
        Route("/tools/{name}", tools.tool_page, methods=["GET"]),
        Route("/tools/{name}", tools.run_tool, methods=["POST"]),
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
