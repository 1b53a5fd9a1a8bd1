"""Mail templates: each mail's subject, plain text and HTML, from files a deployment can
replace (MAIL_TEMPLATES), with `$name` placeholders (Python's string.Template).

`<name>.txt` starts with a `Subject:` line and a blank line, then the text; `<name>.html`
is the HTML part. Values are put into the HTML escaped. A template naming a value its
mail does not have is refused at start-up, so a typo never reaches a user's inbox."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from urllib.parse import quote

from app.settings import ConfigurationError

SHIPPED = resources.files(__package__) / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class MailTemplate:
    """A kind of mail: its templates, the values it is queued with, the values the
    settings give it, and the link it carries (a URL template where `{token}` goes)."""

    name: str
    subject: Template
    text: Template
    html: Template
    given: frozenset[str] = frozenset()
    fixed: Mapping[str, str] = field(default_factory=dict)
    link: str | None = None

    def values(self) -> frozenset[str]:
        """Every value its templates may use: `$address` (the recipient), `$link` (if it has one), and the rest."""
        return frozenset({"address", *self.given, *self.fixed, *(["link"] if self.link else [])})

    def render(self, to: str, values: Mapping[str, str], token: str | None = None) -> Rendered:
        every = {**values, **self.fixed, "address": to}
        if self.link is not None and token is not None:
            every["link"] = self.link.replace("{token}", quote(token, safe=""))
        subject = " ".join(self.subject.substitute(every).split())  # one line, whatever the values hold
        escaped = {name: html.escape(value) for name, value in every.items()}
        return Rendered(subject, self.text.substitute(every), self.html.substitute(escaped))


def load(
    name: str,
    directory: Path | None,
    *,
    given: tuple[str, ...] = (),
    fixed: Mapping[str, str] | None = None,
    link: str | None = None,
) -> MailTemplate:
    """The templates of mail `name`: from `directory` where it has them, else the shipped ones."""
    text_file, html_file = _source(f"{name}.txt", directory), _source(f"{name}.html", directory)
    subject, text = _split_subject(text_file)
    template = MailTemplate(
        name, Template(subject), Template(text), Template(html_file[1]), frozenset(given), dict(fixed or {}), link
    )
    for where, part in ((text_file[0], template.subject), (text_file[0], template.text), (html_file[0], template.html)):
        if not part.is_valid():
            raise ConfigurationError(f"MAIL_TEMPLATES: {where} has a `$` that starts no placeholder (write `$$`)")
        unknown = set(part.get_identifiers()) - template.values()
        if unknown:
            raise ConfigurationError(
                f"MAIL_TEMPLATES: {where} uses ${', $'.join(sorted(unknown))}, which this mail does not have "
                f"(it has ${', $'.join(sorted(template.values()))})"
            )
    return template


def _source(filename: str, directory: Path | None) -> tuple[str, str]:
    """(where it is, its text): the deployment's file if there is one, else the shipped one."""
    if directory is not None and (directory / filename).is_file():
        path = directory / filename
        return str(path), path.read_text(encoding="utf-8")
    return f"the shipped {filename}", (SHIPPED / filename).read_text(encoding="utf-8")


def _split_subject(source: tuple[str, str]) -> tuple[str, str]:
    where, text = source
    found = re.match(r"Subject:[ \t]*(.+)\r?\n\r?\n", text)
    if found is None:
        raise ConfigurationError(f"MAIL_TEMPLATES: {where} must start with a `Subject: ...` line and a blank line")
    return found.group(1).strip(), text[found.end() :]
