"""Bylines: names from the strings and elements a publisher marks as the author.

Rules (general, measured on the fundus development half; see ``docs/quality.md``):

* A byline string naming several people ("A, B and C", "A und B", "A; B") is split into them.
  Handles and initials ("srf/hosb") are kept as written: ``/`` does not separate names.
* A name followed by an affiliation ("Jane Doe, professor of history at ...") is the name only:
  the leading names are kept up to the first part that is not name-like (more than four words,
  or starting in lower case).
* A credit that names only organisations, the site among them ("Le Figaro et AFP"), is one credit,
  kept whole: splitting it would invent two "authors" that are not people either.
* An organisation the page declares as the article's *author* (JSON-LD ``author`` of type
  ``Organization``) is a byline even when it is the site itself ("Salzburger Nachrichten" as
  the house byline); the site is never taken from the ``publisher`` or ``og:site_name``.
* Microdata ``itemprop="author"`` elements (their ``itemprop="name"`` when they have one) and
  ``rel="author"`` links are a declared byline, used when JSON-LD names no one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from lxml.html import HtmlElement

from newsarchive.extraction.text import clean_space

_BY = re.compile(r"^(?:by|author|autor|autorin|par|por|автор|от)\s*:?\s+", re.I)
_INITIALS = re.compile(r"\s*\([\w.]{1,6}\)$")
#: Job titles CJK bylines append to the name ("신현주 기자", "山田太郎記者"): not part of it.
_REPORTER = re.compile(r"\s*(?:기자|특파원|記者|特派員|记者)$")
_NAME_LIST = re.compile(r"\s*(?:,|;|\s&\s|\sand\s|\sund\s|\set\s|\sи\s)\s*")
#: Words a name may have; a longer part is a description, not a name.
_MAX_NAME_WORDS = 4
#: An agency credit: short and upper-case ("AFP", "AP", "DPA", "APA").
_AGENCY = re.compile(r"[A-Z]{2,6}")
_REL_AUTHOR = "//a[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]"


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for value in values:
        if value.casefold() not in seen:
            seen.add(value.casefold())
            result.append(value)
    return result


def clean_author(value: str | None) -> str | None:
    """``"By  Daisy  Sindelar - RFE/RL"`` → ``"Daisy Sindelar"``; URLs are not names."""
    name = clean_space(html.unescape(value or ""))
    if not name or name.startswith(("http://", "https://", "/")):
        return None
    name = _REPORTER.sub("", _INITIALS.sub("", _BY.sub("", name)))
    head, sep, tail = name.rpartition(" - ")
    if sep and head and len(tail.split()) <= 3:
        name = head.strip()
    return name or None


def _name_like(part: str) -> bool:
    """Not a description: at most four words, and not a lower-case phrase ("professor of ...";
    a one-word lower-case handle such as "kesm" is a name)."""
    words = part.split()
    return 1 <= len(words) <= _MAX_NAME_WORDS and not (len(words) > 1 and part[:1].islower())


def split_names(value: str | None) -> list[str]:
    """One byline string as the list of people it names (see the module docstring)."""
    name = clean_author(value)
    if not name:
        return []
    parts = [p for p in _NAME_LIST.split(name) if p]
    if len(parts) == 1:
        return [name]
    if all(_name_like(p) for p in parts):
        return _unique([n for n in map(clean_author, parts) if n])
    leading: list[str] = []
    for part in parts:
        if not _name_like(part):
            break
        leading.append(part)
    if leading and len(leading[0].split()) >= 2:
        return _unique([n for n in map(clean_author, leading) if n])
    return [name]


def credit_names(value: str | None, is_site: Callable[[str], bool]) -> list[str]:
    """:func:`split_names`, except that a credit naming only the site and agencies ("Le Figaro
    et AFP") stays one credit."""
    parts = split_names(value)
    if len(parts) < 2:
        return parts
    sites = [is_site(p) for p in parts]
    agencies = [bool(_AGENCY.fullmatch(p)) for p in parts]
    if any(sites) and all(s or a for s, a in zip(sites, agencies, strict=True)):
        return [clean_author(value) or parts[0]]
    return parts


def microdata_authors(tree: HtmlElement) -> list[str]:
    """Names in ``itemprop="author"`` elements (their ``itemprop="name"`` part when present),
    else in ``rel="author"`` links, in page order."""
    names: list[str] = []
    for element in tree.xpath("//*[@itemprop='author'][not(self::meta) and not(self::link)]"):
        inner = element.xpath(".//*[@itemprop='name']")
        if inner:
            text = inner[0].get("content") or inner[0].text_content()
        else:
            text = element.get("content") or element.text_content()
        for raw in re.split(r"\s*;\s*", clean_space(text)):
            names.extend(split_names(raw))
    if not names:
        for link in tree.xpath(_REL_AUTHOR):
            names.extend(split_names(link.text_content()))
    return _unique(names)
