"""What plugins add to the web surface: their routes, static folders, templates and menu links.

All of it is rebuilt after a plugin reload and swapped in one assignment each. Plugin routes sit in
one `PluginRoutes` entry of the route list, after ours (a plugin cannot shadow a route of ours) and
before `/static` (so /static/plugins/<name>/ reaches the plugin's folder). They pass the same
middleware as ours: login gate, CSRF, security headers. A plugin route whose path our public list
covers is refused, so a plugin can never add an unauthenticated endpoint by choosing a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from vcore_app.plugins import NavItem
from vcore_app.plugins.manager import Plugins

_CHOSEN = "vcore.plugin_route"


class PluginRoutes(BaseRoute):
    """The routes plugins registered, matched in order; replaced as a whole on reload."""

    path = "/<plugin routes>"

    def __init__(self) -> None:
        self.routes: list[BaseRoute] = []

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        partial: tuple[Match, Scope] | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return match, {**child, _CHOSEN: route}
            if match is Match.PARTIAL and partial is None:
                partial = (match, {**child, _CHOSEN: route})
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[_CHOSEN].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


class PluginSurface:
    """Keeps routes, template search path and menu in step with the loaded plugins."""

    def __init__(self, plugins: Plugins, env: Environment, is_public: Any) -> None:
        self.plugins = plugins
        self.env = env
        self.is_public = is_public
        self.routes = PluginRoutes()
        self.nav_items: list[NavItem] = []
        self._ours: BaseLoader = env.loader or FileSystemLoader([])
        env.globals["plugin_nav_items"] = lambda: self.nav_items
        self.refresh()
        plugins.on_change(self.refresh)

    def refresh(self) -> None:
        routes: list[BaseRoute] = []
        for name, folder in self.plugins.items("register_static"):
            routes.append(Mount(f"/static/plugins/{name}", app=StaticFiles(directory=Path(folder), check_dir=False)))
        for record, route in self.plugins.entries("register_routes"):
            path = getattr(route, "path", "")
            if not isinstance(route, BaseRoute) or not path or self.is_public(path) or path.startswith("/static/"):
                self.plugins.report(
                    record,
                    f"route {path or route!r} refused: a plugin route is a Starlette route "
                    "outside the public paths and /static/",
                    "register_routes",
                )
                continue
            routes.append(route)
        self.routes.routes = routes
        folders = [str(folder) for folder in self.plugins.items("register_templates")]
        self.env.loader = ChoiceLoader([FileSystemLoader(folders), self._ours]) if folders else self._ours
        if self.env.cache is not None:
            self.env.cache.clear()
        self.nav_items = [item for item in self.plugins.items("register_nav_items") if isinstance(item, NavItem)]
