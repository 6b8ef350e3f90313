"""The article's title from the publisher's declared titles, site names cut off.

A page declares its title several times: JSON-LD ``headline``, ``<meta name="headline">``,
``og:title``, ``twitter:title``, ``dc.title``, ``<meta name="title">`` (priority order), with
``<title>`` and trafilatura's guess as fallbacks. The rule:

1. Each declared title loses a trailing site name after a spaced separator (``|``, ``-``, ``–``,
   ``—``, ``::``, ``·``, ``｜``) when the tail is the ``og:site_name``, the JSON-LD publisher,
   ``application-name`` or the host.
2. A declaration that is another declaration plus a short tail after a separator, spaced or not
   (``"Headline-Politicsㅣ Daily"`` next to ``"Headline"``), is that title with a section or site
   suffix: it yields to the shorter one. The page tells its own suffix; no site list is needed.
3. The first remaining declaration wins; then a microdata headline close to it
   (:func:`newsarchive.extraction.headline.printed_headline`).

Measured and rejected (fundus pages, dev/held-out halves, see ``docs/quality.md``): preferring a
declared title that the page prints as its ``<h1>`` (fixed one development page, broke one
held-out page), voting among declarations and the ``<h1>`` (same), and taking the printed
headline when it differs only in quote marks (broke one held-out page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from newsarchive.extraction.text import clean_space, squash

#: Separators between a headline and a site name, tried in this order.
_SEPARATORS = (" - ", " | ", " – ", " — ", " :: ", " · ", " ｜ ")
#: A site name may run to this many words; the headline keeps at least two.
_MAX_SITE_WORDS = 6


def is_site_name(value: str, site_names: set[str], host: str | None) -> bool:
    """Whether ``value`` names the site: one of its declared names, or its host ("Landesspiegel"
    on landesspiegel.de, "RFE/RL" on www.rferl.org, "The Namibian" on namibian.com.na)."""
    squashed = squash(value)
    if len(squashed) < 3:
        return False
    if squashed in {squash(name) for name in site_names}:
        return True
    labels = [squash(label) for label in (host or "").split(".") if len(label) > 3]
    return any(label == squashed or label in squashed for label in labels)


def strip_site_suffix(title: str | None, site_names: set[str], host: str | None) -> str | None:
    """``"Headline - Site Name"`` → ``"Headline"`` when the suffix is the site (by name or host)."""
    if not title:
        return title
    for separator in _SEPARATORS:
        head, sep, tail = title.rpartition(separator)
        if not sep or len(head.split()) < 2 or len(tail.split()) > _MAX_SITE_WORDS:
            continue
        if is_site_name(tail, site_names, host):
            return head.strip()
    return title


def _key(text: str) -> str:
    return clean_space(text)


def is_suffixed(longer: str, title: str) -> bool:
    """Whether ``longer`` is ``title`` plus a short tail after a separator (a site or section
    name the publisher appended in one declaration and not in another)."""
    if len(longer) <= len(title) or not longer.startswith(title):
        return False
    tail = longer[len(title) :]
    return bool(re.match(r"\s*[^\w\s\"'“”‘’«»()]", tail)) and len(tail.split()) <= _MAX_SITE_WORDS


def choose_title(
    declared: Iterable[str | None], site_names: set[str], host: str | None
) -> str | None:
    """The first declared title (priority order), site name cut off; a declaration that is
    another one plus a short tail is that one with a suffix, so it yields to the shorter."""
    candidates: list[str] = []
    for value in declared:
        stripped = strip_site_suffix(clean_space(value or ""), site_names, host)
        if stripped and stripped not in candidates:
            candidates.append(stripped)
    return next((c for c in candidates if not any(is_suffixed(c, o) for o in candidates)), None)
