"""The GraphiQL page and its files, served by this app: no CDN, a strict CSP, immutable files."""

from __future__ import annotations

import hashlib
import re

from app.api.graphiql import CONTENT_SECURITY_POLICY
from app.api.graphiql.vendor import load_pins

from .helpers import Api


async def test_the_page_has_a_strict_content_security_policy(api: Api) -> None:
    response = await api.http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"


async def test_the_page_loads_nothing_from_elsewhere_and_nothing_inline(api: Api) -> None:
    page = (await api.http.get("/graphql", headers={"Accept": "text/html"})).text

    assert "//" not in page
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.DOTALL)
    assert scripts
    assert all(" src=" in attributes and body == "" for attributes, body in scripts)
    assert "<style" not in page
    assert " style=" not in page


async def test_every_file_the_page_uses_is_served_at_its_content_digest_for_ever(api: Api) -> None:
    page = (await api.http.get("/graphql", headers={"Accept": "text/html"})).text
    urls = re.findall(r'(?:src|href)="(/graphiql/[^"]+)"', page)

    names = set()
    for url in urls:
        response = await api.http.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-type"].startswith(("text/javascript", "text/css"))
        _, _, digest, name = url.split("/")
        assert hashlib.sha256(response.content).hexdigest()[:16] == digest
        names.add(name)

    vendored = {name for pin in load_pins() for name in pin.files.values()}
    assert names == vendored | {"page.js", "page.css"}


async def test_a_file_at_a_stale_digest_or_an_unknown_name_is_not_found(api: Api) -> None:
    page = (await api.http.get("/graphql", headers={"Accept": "text/html"})).text
    url = re.findall(r'src="(/graphiql/[^"]+/graphiql\.min\.js)"', page)[0]
    _, _, digest, name = url.split("/")

    assert (await api.http.get(f"/graphiql/{'0' * 16}/{name}")).status_code == 404
    assert (await api.http.get(f"/graphiql/{digest}/pins.json")).status_code == 404
    assert (await api.http.get(f"/graphiql/{digest}/..%2Fpins.json")).status_code == 404
