"""Legal notices: every placement × language × quote style, both foreign-agent forms, and the
reporting articles that must not be mistaken for a notice. The notice never reaches ``text``."""

from __future__ import annotations

import itertools
import re

import pytest
from lxml import html as lxml_html

from newsarchive.extraction import extract, find_notices, remove_notice
from newsarchive.extraction.notices import load_config, normalize

URL = "https://www.example-service.org/a/some-story/33600001.html"

# Quote pairs as the services print them (and as editors paste them).
QUOTES = {
    "straight": ('"', '"'),
    "curly": ("“", "”"),
    "guillemets": ("«", "»"),
    "single": ("'", "'"),
    "curly-single": ("‘", "’"),
}

# The notice, sentence by sentence; {o}/{c} are the quotes, {a}/{z} open and close the link.
NOTICES = {
    "en": (
        "RFE/RL has been declared an {o}undesirable organization{c} by the Russian government.",
        "If you are in Russia or the Russia-controlled parts of Ukraine and hold a Russian passport"
        " or are a stateless person residing permanently in Russia or the Russia-controlled parts"
        " of Ukraine, please note that you could face fines or imprisonment for sharing, liking,"
        " commenting on, or saving our content, or for contacting us.",
        "To find out more, {a}click here{z}.",
    ),
    "ru": (
        "Радио Свобода/Радио Свободная Европа признано российскими властями {o}нежелательной"
        " организацией{c}.",
        "Если вы находитесь в России или на оккупированных Россией территориях Украины и имеете"
        " российский паспорт или являетесь лицом без гражданства, постоянно проживающим в России"
        " или на оккупированных Россией территориях Украины, пожалуйста, обратите внимание, что"
        " вам грозят штрафы или лишение свободы за распространение, лайки, комментарии или"
        " сохранение наших материалов, а также за контакты с нами.",
        "Подробнее {a}здесь{z}.",
    ),
    "uk": (
        "Радіо Свобода/Радіо Вільна Європа визнано російською владою {o}небажаною організацією{c}.",
        "Якщо ви перебуваєте в Росії або на окупованих Росією територіях України і маєте"
        " російський паспорт або є особою без громадянства, яка постійно проживає в Росії або на"
        " окупованих Росією територіях України, зверніть увагу, що вам загрожують штрафи або"
        " позбавлення волі за поширення, вподобання, коментування або збереження наших"
        " матеріалів, а також за контакти з нами.",
        "Детальніше {a}тут{z}.",
    ),
}
ARTICLE = {
    "en": [
        "The city council voted on Tuesday to close the last public library in the district.",
        "Residents said they would appeal the decision in court next month.",
    ],
    "ru": [
        "Городской совет во вторник проголосовал за закрытие последней библиотеки в районе.",
        "Жители заявили, что обжалуют решение в суде в следующем месяце.",
    ],
    "uk": [
        "Міська рада у вівторок проголосувала за закриття останньої бібліотеки в районі.",
        "Мешканці заявили, що оскаржать рішення в суді наступного місяця.",
    ],
    "be": [
        "Гарадская рада ў аўторак прагаласавала за закрыццё апошняй бібліятэкі ў раёне.",
        "Жыхары заявілі, што абскардзяць рашэнне ў судзе ў наступным месяцы.",
    ],
}
FOREIGN_AGENT_2022 = (
    "НАСТОЯЩИЙ МАТЕРИАЛ (ИНФОРМАЦИЯ) ПРОИЗВЕДЕН, РАСПРОСТРАНЕН И (ИЛИ) НАПРАВЛЕН ИНОСТРАННЫМ"
    " АГЕНТОМ РАДИО СВОБОДНАЯ ЕВРОПА/РАДИО СВОБОДА ЛИБО КАСАЕТСЯ ДЕЯТЕЛЬНОСТИ ИНОСТРАННОГО"
    " АГЕНТА РАДИО СВОБОДНАЯ ЕВРОПА/РАДИО СВОБОДА. 18+"
)
FOREIGN_AGENT_OLD = (
    "ДАННОЕ СООБЩЕНИЕ (МАТЕРИАЛ) СОЗДАНО И (ИЛИ) РАСПРОСТРАНЕНО ИНОСТРАННЫМ СРЕДСТВОМ МАССОВОЙ"
    " ИНФОРМАЦИИ, ВЫПОЛНЯЮЩИМ ФУНКЦИИ ИНОСТРАННОГО АГЕНТА, И (ИЛИ) РОССИЙСКИМ ЮРИДИЧЕСКИМ"
    " ЛИЦОМ, ВЫПОЛНЯЮЩИМ ФУНКЦИИ ИНОСТРАННОГО АГЕНТА"
)


def sentences(language: str, quotes: str = "straight", link: bool = True) -> list[str]:
    o, c = QUOTES[quotes]
    a, z = (
        ('<a class="wsw__a" href="https://example.org/a/32832107.html">', "</a>")
        if link
        else ("", "")
    )
    return [s.format(o=o, c=c, a=a, z=z) for s in NOTICES[language]]


def plain(markup: str) -> str:
    return re.sub(r"<[^>]+>", "", markup)


def notice_markup(language: str, quotes: str, style: str) -> str:
    """The notice in one of the ways templates print it."""
    parts = sentences(language, quotes)
    if style == "paragraphs":
        first = re.sub(r"^(\S+ \S+)", r"<strong>\1</strong>", parts[0])  # markup inside a sentence
        return "".join(f"<p>{p}</p>" for p in [first, *parts[1:]])
    if style == "br":
        return "<p>" + "<br />\n".join(parts) + "</p>"
    if style == "wrapped":
        # hard line breaks and &nbsp; inside the sentences, as in hand-edited markup
        wrapped = [
            re.sub(r"(\S+ \S+ \S+ \S+) ", "\\1\n", p).replace(" ", "&nbsp;", 2) for p in parts
        ]
        return "".join(f'<p class="c-disclaimer__text">{p}</p>' for p in wrapped)
    raise AssertionError(style)


def page(
    language: str,
    *,
    body_extra: str = "",
    after_body: str = "",
    footer: str = "",
    header: str = "",
    before_wsw: str = "",
) -> str:
    """A small Pangea article page with slots for notices."""
    paragraphs = "".join(f"<p>{p}</p>" for p in ARTICLE[language])
    return f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8"><title>Story</title>
<meta content="Story" property="og:title" />
<meta content="https://gdb.example-service.org/01000000-aaaa_w1200_r1_s.jpg" property="og:image" />
</head>
<body class=" nav-no-loaded pg-article print-lay-article ">
<script>var utag_data={{entity:"RFE",pangea_version:"8.34.0.0.291",article_uid:"1"}};</script>
<div id="page">
<div class="banner">{header}</div>
<div id="content"><div class="container"><div class="hdr-container">
<h1 class="title pg-title">Story</h1></div></div>
<div class="container"><div class="body-container"><div class="row">
<div id="article-content" class="content-floated-wrap fb-quotable">{before_wsw}
<div class="wsw">{paragraphs}{body_extra}</div>
</div></div></div>{after_body}</div>
</div>
<footer role="contentinfo"><div id="foot" class="foot"><div class="foot-nav"><ul>
<li><a href="/p/5.html">About Us</a></li></ul></div>{footer}
<p class="copyright">Copyright 2025</p></div></footer>
</div></body></html>"""


PLACEMENTS = {
    "article-body": lambda n: {"body_extra": n},
    "after-body": lambda n: {
        "after_body": f'<div class="c-disclaimer"><div class="c-disclaimer__inner">{n}</div></div>'
    },
    "footer": lambda n: {"footer": f'<div class="footer__disclaimer">{n}</div>'},
    "elsewhere": lambda n: {"header": n},
}


def assert_not_in_text(text: str, notice_text: str) -> None:
    for paragraph in notice_text.split("\n\n"):
        assert normalize(paragraph)[:50] not in normalize(text), paragraph
    for stem in ("undesirable", "нежелательн", "небажан", "иностранн"):
        assert stem not in text.lower()


CASES = [
    (language, location, quotes, style)
    for language, location, quotes, style in itertools.product(
        NOTICES, PLACEMENTS, QUOTES, ("paragraphs", "br", "wrapped")
    )
    # every quote style and every markup style in every placement, without the full product
    if (list(QUOTES).index(quotes) + ("paragraphs", "br", "wrapped").index(style)) % 2 == 0
    or location == "article-body"
]


@pytest.mark.parametrize(("language", "location", "quotes", "style"), CASES)
def test_undesirable_organization_notice_everywhere(language, location, quotes, style):
    html = page(language, **PLACEMENTS[location](notice_markup(language, quotes, style)))
    result = extract(html, URL)
    notice = result["legal_notice"]
    assert notice is not None
    assert (notice["kind"], notice["language"], notice["location"]) == (
        "undesirable-organization",
        language,
        location,
    )
    expected = [re.sub(r"\s+", " ", plain(s)).strip() for s in sentences(language, quotes)]
    assert notice["text"] == "\n\n".join(expected)
    assert_not_in_text(result["text"], notice["text"])
    assert result["text"].startswith(ARTICLE[language][0])
    assert result["text"].endswith(ARTICLE[language][-1])


def generic_page(language: str, notice: str) -> str:
    """A non-Pangea page: the text comes from trafilatura, which keeps in-article notices."""
    filler = " ".join(ARTICLE[language]) * 3
    paragraphs = "".join(f"<p>{filler} ({i})</p>" for i in range(4))
    return f"""<html lang="{language}"><head><title>Story</title></head><body>
<nav><a href="/">Home</a></nav><article><h1>Story</h1>{paragraphs}{notice}</article>
<footer><p>Copyright</p></footer></body></html>"""


@pytest.mark.parametrize(
    ("language", "style"), [("en", "paragraphs"), ("ru", "br"), ("uk", "wrapped"), ("en", "br")]
)
def test_notice_kept_by_trafilatura_is_removed(language, style):
    html = generic_page(language, notice_markup(language, "curly", style))
    result = extract(html, "https://news.example.org/2025/story.html")
    notice = result["legal_notice"]
    assert (notice["kind"], notice["location"]) == ("undesirable-organization", "article-body")
    assert_not_in_text(result["text"], notice["text"])
    assert result["text"].count("(3)") == 1


@pytest.mark.parametrize(
    ("label", "slot", "location"),
    [
        (f"<p>{FOREIGN_AGENT_2022}</p>", "before_wsw", "article-body"),
        (f"<p>{FOREIGN_AGENT_2022.lower().capitalize()}</p>", "body_extra", "article-body"),
        (f"<p>{FOREIGN_AGENT_2022[:-4]}</p><p>18+</p>", "footer", "footer"),
        (f"<p>{FOREIGN_AGENT_OLD}</p>", "before_wsw", "article-body"),
        (f"<p>{FOREIGN_AGENT_OLD.replace(', ', ',<br>')}</p>", "after_body", "after-body"),
    ],
)
def test_foreign_agent_label_both_forms(label, slot, location):
    wrapped = (
        label
        if slot != "before_wsw"
        else f'<div class="c-label c-label--foreign-agent">{label}</div>'
    )
    result = extract(page("ru", **{slot: wrapped}), URL)
    notice = result["legal_notice"]
    assert notice is not None
    assert (notice["kind"], notice["language"], notice["location"]) == (
        "foreign-agent",
        "ru",
        location,
    )
    assert "ИНОСТРАН" in notice["text"].upper()
    assert_not_in_text(result["text"], notice["text"])
    assert result["text"] == "\n\n".join(ARTICLE["ru"])


def test_foreign_agent_label_with_other_agent_name():
    label = FOREIGN_AGENT_2022.replace("РАДИО СВОБОДНАЯ ЕВРОПА/РАДИО СВОБОДА", "НАСТОЯЩЕЕ ВРЕМЯ")
    notices = find_notices(lxml_html.fromstring(page("ru", body_extra=f"<p>{label}</p>")))
    assert [n.kind for n in notices] == ["foreign-agent"]
    assert notices[0].text == label


def test_both_kinds_report_undesirable_and_remove_both():
    html = page(
        "ru",
        before_wsw=f'<div class="c-label">{FOREIGN_AGENT_2022}</div>',
        body_extra=notice_markup("ru", "guillemets", "paragraphs"),
    )
    result = extract(html, URL)
    assert result["legal_notice"]["kind"] == "undesirable-organization"
    kinds = [n.kind for n in find_notices(lxml_html.fromstring(html))]
    assert kinds == ["undesirable-organization", "foreign-agent"]
    assert [n["kind"] for n in result["legal_notices"]] == kinds
    assert result["legal_notices"][0] == result["legal_notice"]
    assert result["text"] == "\n\n".join(ARTICLE["ru"])


def test_same_notice_in_body_and_footer_reports_the_body_one():
    notice = notice_markup("en", "straight", "paragraphs")
    result = extract(page("en", body_extra=notice, footer=notice), URL)
    assert result["legal_notice"]["location"] == "article-body"
    assert_not_in_text(result["text"], result["legal_notice"]["text"])


# -- negatives: reporting on designations is not a notice ---------------------------------------

REPORTING = {
    "en": [
        "Russia's Prosecutor-General's Office declared the group an \"undesirable organization\""
        " on Tuesday, making any cooperation with it a criminal offense.",
        "Russians who share the group's content could face fines or imprisonment, lawyers said.",
        'RFE/RL itself was declared an "undesirable organization" by the Russian authorities in'
        " February 2024.",
        'RFE/RL has been declared an "undesirable organization" by the Russian government, the'
        " broadcaster said in a statement, calling the decision absurd.",
    ],
    "ru": [
        "Генпрокуратура признала Балтийскую правозащитную сеть «нежелательной организацией».",
        "Участие в деятельности нежелательной организации грозит штрафом или лишением свободы.",
        "В феврале 2024 года нежелательной организацией власти признали и Радио Свобода.",
        "Минюст признал журналиста иностранным агентом, а его материалы теперь должны"
        " сопровождаться маркировкой иностранного агента.",
    ],
    "uk": [
        "Генпрокуратура Росії визнала фонд «небажаною організацією» у вівторок.",
        "Росіянам, які поширюють матеріали фонду, загрожують штрафи, кажуть юристи.",
    ],
}


@pytest.mark.parametrize("language", list(REPORTING))
def test_reporting_articles_are_not_notices(language):
    body = "".join(f"<p>{p}</p>" for p in REPORTING[language])
    result = extract(page(language, body_extra=body), URL)
    assert result["legal_notice"] is None
    for paragraph in REPORTING[language]:
        assert paragraph in result["text"]


def test_article_quoting_the_label_is_not_labelled():
    quoting = (
        "С 2022 года каждый материал, который публикует признанное иноагентом издание, должен"
        f" начинаться с плашки «{FOREIGN_AGENT_2022[:-5]}». Юристы отмечают, что за отсутствие"
        " такой плашки редакции и отдельных журналистов регулярно штрафуют, а повторное нарушение"
        " может привести к уголовному делу, поэтому многие небольшие редакции предпочитают"
        " закрыться, чем работать под постоянной угрозой проверок и новых штрафов от властей."
    )
    result = extract(page("ru", body_extra=f"<p>{quoting}</p>"), URL)
    assert result["legal_notice"] is None
    assert quoting in result["text"]


def test_page_with_neither_kind():
    result = extract(page("en"), URL)
    assert result["legal_notice"] is None
    assert result["text"] == "\n\n".join(ARTICLE["en"])


def test_real_pages_have_no_notice(corpora):
    import gzip

    for path in sorted((corpora / "rferl" / "pangea-pages").glob("*.html.gz")):
        tree = lxml_html.fromstring(gzip.decompress(path.read_bytes()))
        assert find_notices(tree) == [], path.name


# -- the data file and remove_notice -------------------------------------------------------------


def test_every_reference_wording_is_found_by_its_entry():
    for entry in load_config().patterns:
        markup = "".join(f"<p>{p}</p>" for p in entry.reference.split("\n\n"))
        found = find_notices(lxml_html.fromstring(page(entry.language, body_extra=markup)))
        assert [(n.kind, n.language) for n in found][:1] == [(entry.kind, entry.language)]
        assert found[0].text == entry.reference


def test_reworded_notice_is_found_by_its_reference_wording():
    # a variant wording the regexes do not know; most of the reference's shingles are there
    reworded = sentences("en")[1].replace(
        "could face fines or imprisonment", "may be fined or jailed"
    )
    markup = f"<p>{sentences('en')[0]}</p><p>{reworded}</p>"
    notices = find_notices(lxml_html.fromstring(page("en", body_extra=markup)))
    assert [n.kind for n in notices] == ["undesirable-organization"]


def test_remove_notice_from_text_where_extraction_merged_it():
    notice = {
        "kind": "undesirable-organization",
        "text": "\n\n".join(plain(s) for s in sentences("en")),
        "language": "en",
        "location": "footer",
    }
    merged = (
        "First paragraph.\n\nLast paragraph. "
        + plain(sentences("en", "curly")[0])
        + " "
        + plain(sentences("en")[1])
        + "\nTo find out more, click here."
    )
    assert remove_notice(merged, notice) == "First paragraph.\n\nLast paragraph."
    # the short 'click here' line is only removed as a whole line, never inside the article
    article = "To find out more, click here to read the court ruling."
    assert remove_notice(article, notice) == article
    assert remove_notice("", notice) == ""
    assert remove_notice("Text.", None) == "Text."
