"""Static files: our own assets/static, Bootstrap from its Python package, and the accent colour.

Nothing comes from a CDN, so the UI works on a machine with no internet.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from vcore_app.paths import assets_dir, bootstrap_dir, swagger_ui_dir
from vcore_app.web.deps import settings


async def theme_css(request: Request) -> Response:
    """The ACCENT setting as CSS variables (a stylesheet, because the CSP forbids inline styles)."""
    accent = settings(request).ACCENT
    red, green, blue = (int(accent[i : i + 2], 16) for i in (1, 3, 5))
    # Text in the accent (outline buttons; links on a dark page) is the accent shaded 20% towards black
    # on a light page and tinted 40% towards white on a dark one, as Bootstrap does with its own blue:
    # the accent itself is 4.2:1 on a light grey and ~3:1 on dark.
    light_red, light_green, light_blue = (round(c + (255 - c) * 0.4) for c in (red, green, blue))
    light = f"#{light_red:02x}{light_green:02x}{light_blue:02x}"
    dark = "#" + "".join(f"{round(c * 0.8):02x}" for c in (red, green, blue))
    body = (
        f":root, [data-bs-theme] {{ --vc-accent: {accent}; --vc-accent-rgb: {red}, {green}, {blue};"
        f" --vc-accent-text: {dark};"
        f" --bs-primary: {accent}; --bs-primary-rgb: {red}, {green}, {blue};"
        f" --bs-link-color: {accent}; --bs-link-color-rgb: {red}, {green}, {blue}; }}\n"
        f"[data-bs-theme=dark] {{ --vc-accent-text: {light};"
        f" --bs-link-color: {light}; --bs-link-color-rgb: {light_red}, {light_green}, {light_blue};"
        f" --bs-link-hover-color: {light}; --bs-link-hover-color-rgb: {light_red}, {light_green}, {light_blue}; }}\n"
    )
    return Response(body, media_type="text/css", headers={"Cache-Control": "no-cache"})


def static_routes() -> list[BaseRoute]:
    return [
        Route("/static/theme.css", theme_css, methods=["GET"]),
        Mount("/static/vendor/bootstrap", app=StaticFiles(directory=bootstrap_dir()), name="bootstrap"),
        Mount("/static/vendor/swagger-ui", app=StaticFiles(directory=swagger_ui_dir()), name="swagger-ui"),
        Mount("/static", app=StaticFiles(directory=assets_dir() / "static"), name="static"),
    ]
