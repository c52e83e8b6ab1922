"""GraphiQL served from the package: the page strawberry ships, with its CDN scripts replaced
by copies we serve ourselves, so it works on a machine without internet."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from strawberry.http.ides import get_graphql_ide_html

ASSET_DIR = Path(__file__).with_name("graphiql")
ASSET_ROUTE = "/graphql/assets/{name}"
ASSET_PREFIX = "/graphql/assets/"

# strawberry's CDN address → the same file (its integrity hash checked by the browser) in ASSET_DIR.
CDN_COPIES = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "plugin-explorer.umd.js"
    ),
}
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class StaleAssetsError(RuntimeError):
    """strawberry's page asks for a file we do not ship (strawberry was upgraded)."""


@cache
def graphiql_page() -> str:
    """The GraphiQL page with every asset pointing at our own copy."""
    html = get_graphql_ide_html("graphiql")
    for url, name in CDN_COPIES.items():
        if url not in html:
            raise StaleAssetsError(f"GraphiQL no longer loads {url}: update {ASSET_DIR}")
        html = html.replace(url, ASSET_PREFIX + name)
    return html


async def graphiql_asset(request: Request) -> Response:
    """One of the shipped GraphiQL files; anything else is 404."""
    name = request.path_params["name"]
    if name not in CDN_COPIES.values():
        return PlainTextResponse("not found", status_code=404)
    path = ASSET_DIR / name
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400"},
    )
