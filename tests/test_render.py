"""Rendering a Hudu article into the Halo fields we own: safe HTML, absolute links, stable hash."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pytest
from selectolax.lexbor import LexborHTMLParser

import core.render
from core.models import HuduArticle, HuduUpload, marker_for
from core.render import (
    RenderedArticle,
    RenderOptions,
    article_payload,
    content_hash,
    render_article,
)

HUDU = "https://hudu.test"
MB = 1024 * 1024


def article(content: str = "<p>Hello</p>", **changes: object) -> HuduArticle:
    values: dict[str, object] = {
        "id": 42,
        "name": "Reset the VPN",
        "content": content,
        "slug": "reset-the-vpn",
        "url": f"{HUDU}/kba/reset-the-vpn",
        "company_id": None,
        "folder_id": None,
        "draft": False,
        "archived": False,
        "enable_sharing": False,
        "share_url": "",
        "created_at": None,
        "updated_at": None,
    }
    values.update(changes)
    return HuduArticle(**values)  # type: ignore[arg-type]


def upload(upload_id: int, size: int, name: str = "") -> HuduUpload:
    return HuduUpload(
        id=upload_id,
        name=name or f"file-{upload_id}.pdf",
        ext="pdf",
        mime="application/pdf",
        size=size,
        url=f"/file/{upload_id}",
        uploadable_type="Article",
        uploadable_id=42,
    )


def render(
    art: HuduArticle | None = None,
    *,
    files: tuple[HuduUpload, ...] = (),
    link_for_slug: Callable[[str], str | None] = lambda slug: None,
    faqlist_id: int = 7,
) -> RenderedArticle:
    return render_article(
        art or article(),
        hudu_base_url=HUDU + "/api/v1",
        faqlist_id=faqlist_id,
        files=files,
        link_for_slug=link_for_slug,
    )


def parse(rendered: RenderedArticle) -> LexborHTMLParser:
    return LexborHTMLParser(rendered.payload["description_html"], is_fragment=True)


def hrefs(rendered: RenderedArticle) -> list[str]:
    return [str(a.attrs.get("href")) for a in parse(rendered).css("a[href]")]


# ---------------------------------------------------------------- payload shape
def test_the_payload_holds_only_the_fields_we_own() -> None:
    rendered = render()
    payload = rendered.payload
    assert set(payload) == {
        "name",
        "description",
        "description_html",
        "faqlists",
        "tag_string",
        "inactive",
    }
    assert payload["name"] == "Reset the VPN"
    assert payload["faqlists"] == [{"id": 7}]
    assert payload["inactive"] is False
    assert payload["description"] == payload["description_html"]
    tags = [t.strip() for t in payload["tag_string"].split(",")]
    assert marker_for(42) in tags and "hudu" in tags


def test_the_banner_comes_first_and_links_to_the_hudu_article() -> None:
    html = render().payload["description_html"]
    text = LexborHTMLParser(html, is_fragment=True).text()
    assert text.index("Article from Hudu") < text.index("Hello")
    assert "Edit in Hudu: changes made here are overwritten on the next sync" in text
    assert hrefs(render())[0] == f"{HUDU}/kba/reset-the-vpn"


def test_a_relative_article_url_and_a_dirty_title_are_fixed() -> None:
    rendered = render(article(url="/kba/x", name="  Line\x00one\n two  "))
    assert rendered.payload["name"] == "Line one two"
    assert hrefs(rendered)[0] == f"{HUDU}/kba/x"
    assert render(article(name="  ")).payload["name"] == "Hudu article 42"


# ---------------------------------------------------------------- sanitising
HOSTILE = """
<h2 onclick="steal()">Steps</h2>
<script>alert(1)</script><style>body{display:none}</style>
<p style="color: red; position: fixed">Red <b onmouseover="x()">bold</b></p>
<img src="/public_photo/abc" onerror="alert(2)" alt="shot">
<a href="javascript:alert(3)">js</a> <a href=" JaVaScRiPt:alert(4)">js2</a>
<a href="java&#x09;script:alert(5)">js3</a> <a href="data:text/html,hi">data</a>
<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="svg">
<img src="data:image/png;base64,iVBORw0KGgo=">
<iframe src="https://evil.example/x"></iframe>
<iframe src="https://www.youtube.com/embed/abc"></iframe>
<object data="x.swf"></object><embed src="y.swf"><form action="/x"><input name="q"></form>
<table><tr><td colspan="2">cell</td></tr></table>
<pre><code>code()</code></pre><ul><li>item</li></ul>
"""


def test_scripts_handlers_javascript_urls_and_iframes_are_removed() -> None:
    tree = parse(render(article(HOSTILE)))
    for selector in ("script", "style", "iframe", "object", "embed", "form", "input"):
        assert tree.css(selector) == [], selector
    for node in tree.css("*"):
        for name, value in node.attributes.items():
            assert not name.lower().startswith("on"), (node.tag, name)
            lowered = (value or "").lower().replace(" ", "")
            assert not lowered.startswith("javascript:"), (node.tag, name, value)
            if lowered.startswith("data:"):
                assert node.tag == "img" and lowered.startswith("data:image/png"), value
    assert "alert" not in tree.html  # type: ignore[operator]
    assert "position" not in tree.html  # type: ignore[operator]


def test_ordinary_formatting_survives() -> None:
    tree = parse(render(article(HOSTILE)))
    assert tree.css_first("h2").text() == "Steps"  # type: ignore[union-attr]
    assert tree.css_first("p b").text() == "bold"  # type: ignore[union-attr]
    assert tree.css_first("td").attrs.get("colspan") == "2"  # type: ignore[union-attr]
    assert tree.css_first("pre code").text() == "code()"  # type: ignore[union-attr]
    assert tree.css_first("li").text() == "item"  # type: ignore[union-attr]
    styled = tree.css_first("p[style]")
    assert styled is not None and styled.attrs.get("style") == "color:red"
    assert tree.css_first("img[alt=shot]") is not None


def test_known_video_iframes_become_links() -> None:
    assert "https://www.youtube.com/embed/abc" in hrefs(render(article(HOSTILE)))
    assert not [h for h in hrefs(render(article(HOSTILE))) if "evil.example" in h]


# ---------------------------------------------------------------- URL rewriting
def test_relative_hudu_urls_become_absolute() -> None:
    content = (
        '<a href="/public_photo/abc"><img src="/public_photo/abc"></a>'
        '<a href="/file/12">file</a><img src="/uploads/x/y.png">'
        '<a href="//cdn.example/z.png">cdn</a><a href="#top">top</a>'
        '<a href="https://example.org/page">out</a><a href="mailto:a@b.c">mail</a>'
    )
    rendered = render(article(content))
    tree = parse(rendered)
    assert [img.attrs.get("src") for img in tree.css("img")] == [
        f"{HUDU}/public_photo/abc",
        f"{HUDU}/uploads/x/y.png",
    ]
    assert hrefs(rendered)[1:] == [
        f"{HUDU}/public_photo/abc",
        f"{HUDU}/file/12",
        "https://cdn.example/z.png",
        "#top",
        "https://example.org/page",
        "mailto:a@b.c",
    ]


def test_kba_links_go_to_the_halo_copy_when_known_else_to_hudu() -> None:
    content = (
        '<a href="/kba/synced-one">a</a>'
        f'<a href="{HUDU}/kba/synced-one/with-seo-suffix">b</a>'
        '<a href="/kba/not-synced">c</a>'
        f'<a href="{HUDU}/kba/not-synced?x=1">d</a>'
        '<a href="https://other.example/kba/synced-one">e</a>'
    )
    asked: list[str] = []

    def link_for_slug(slug: str) -> str | None:
        asked.append(slug)
        return "https://halo.test/kb?id=9" if slug == "synced-one" else None

    rendered = render(article(content), link_for_slug=link_for_slug)
    assert hrefs(rendered)[1:] == [
        "https://halo.test/kb?id=9",
        "https://halo.test/kb?id=9",
        f"{HUDU}/kba/not-synced",
        f"{HUDU}/kba/not-synced?x=1",
        "https://other.example/kba/synced-one",
    ]
    assert sorted(set(asked)) == ["not-synced", "synced-one"]


# ---------------------------------------------------------------- files
def test_an_oversized_file_is_skipped_with_the_reason_and_linked() -> None:
    small, big = upload(1, 3 * MB), upload(2, int(31.4 * MB), name="disk.iso")
    rendered = render(files=(big, small))
    assert rendered.files_to_attach == (small,)
    (skipped,) = rendered.skipped_files
    assert (skipped.upload_id, skipped.filename, skipped.size) == (2, "disk.iso", big.size)
    assert skipped.reason == "larger than Halo's 25 MB attachment limit (31.4 MB)"
    tree = parse(rendered)
    section = tree.css("li")[-1]
    assert "disk.iso" in section.text() and "25 MB" in section.text()
    assert f"{HUDU}/file/2" in hrefs(rendered)
    assert f"{HUDU}/file/1" not in hrefs(rendered)


def test_an_article_with_a_public_link_links_its_files_instead_of_attaching() -> None:
    shared = article(enable_sharing=True, share_url=f"{HUDU}/shared_article/abc")
    rendered = render(shared, files=(upload(1, 1000), upload(2, 40 * MB)))
    assert rendered.files_to_attach == ()
    assert rendered.skipped_files == ()
    # the in-app /file/<id> pages need a Hudu login; the public page does not
    assert f"{HUDU}/file/1" not in hrefs(rendered)
    assert hrefs(rendered).count(f"{HUDU}/shared_article/abc") == 2
    assert "public Hudu page" in parse(rendered).text()


def test_sharing_without_a_share_url_and_archived_uploads() -> None:
    archived = dataclasses.replace(upload(3, 10), archived=True)
    rendered = render(article(enable_sharing=True, share_url=""), files=(upload(1, 10), archived))
    assert rendered.files_to_attach == (upload(1, 10),)
    assert "Attachments" not in rendered.payload["description_html"]


# ---------------------------------------------------------------- the content hash
def test_the_hash_is_stable_and_sensitive() -> None:
    files = (upload(1, 10), upload(2, 20))
    base = render(files=files)
    assert render(files=files).content_hash == base.content_hash
    assert render(files=tuple(reversed(files))).content_hash == base.content_hash
    variants = [
        render(article(name="Other title"), files=files),
        render(article("<p>Hello!</p>"), files=files),
        render(faqlist_id=8, files=files),
        render(files=files[:1]),
        render(files=(upload(1, 10), upload(2, 21))),
        render(files=(upload(1, 10), upload(2, 20, name="renamed.pdf"))),
        render(files=(upload(1, 10), upload(2, 30 * MB))),
    ]
    hashes = {v.content_hash for v in variants}
    assert len(hashes) == len(variants) and base.content_hash not in hashes
    assert len(base.content_hash) == 64


# ---------------------------------------------------------------- huge and hostile input
#: What an HTML parser may be handed for one body: its cost grows with the length and with the
#: sum, over start tags, of the depth of open elements (every tag looks through the open
#: elements). A 2,000-deep body costs 2 M; a 100,000-deep one 5,000 M, which takes minutes.
PARSER_MAX_CHARS = 20 * MB
PARSER_MAX_WORK = 50_000_000
#: a start tag that opens an element (void elements such as <img> do not), or an end tag
_OPEN_OR_CLOSE = re.compile(r"<(/?)(?!(?:area|br|col|embed|hr|img|input|meta|wbr)\b)[a-z]", re.I)


def nesting_work(html: str, limit: int = PARSER_MAX_WORK) -> int:
    """Sum of open-element depth over start tags (stops counting past `limit`)."""
    depth = work = 0
    for slash in _OPEN_OR_CLOSE.findall(html):
        if slash:
            depth -= depth > 0
        else:
            depth += 1
            work += depth
            if work > limit:
                break
    return work


@dataclasses.dataclass
class ParserSpy:
    """Every HTML parse of a render: which parser, how many characters, how much nesting."""

    calls: list[tuple[str, int, int]] = dataclasses.field(default_factory=list)

    def check(self, parser: str, html: str) -> None:
        work = nesting_work(html)
        self.calls.append((parser, len(html), work))
        # refuse here rather than let a missing guard spend minutes in the real parser
        assert len(html) <= PARSER_MAX_CHARS, f"{parser} was handed {len(html):,} characters"
        assert work <= PARSER_MAX_WORK, f"{parser} was handed nesting work over {work:,}"

    def count(self, parser: str) -> int:
        return sum(1 for name, _, _ in self.calls if name == parser)


@pytest.fixture
def parsers(monkeypatch: pytest.MonkeyPatch) -> ParserSpy:
    """Watch both parsers render_article uses: the nh3 sanitiser and the lexbor tree."""
    spy = ParserSpy()
    cleaner = core.render._CLEANER

    class Sanitiser:
        def clean(self, html: str) -> str:
            spy.check("sanitiser", html)
            return cleaner.clean(html)

    def tree(html: str, **options: object) -> LexborHTMLParser:
        spy.check("lexbor", html)
        return LexborHTMLParser(html, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(core.render, "_CLEANER", Sanitiser())
    monkeypatch.setattr(core.render, "LexborHTMLParser", tree)
    return spy


TOO_BIG = "too large or too deeply nested to copy"
PHOTO_5MB = "<p>Hello <b>world</b> <a href='/kba/x'>x</a> <img src='/public_photo/a'></p>"


@pytest.mark.parametrize(
    ("content", "kept"),
    [
        ("<div>" * 2000 + "deep" + "</div>" * 2000, "deep"),
        ("<div>" * 100_000 + "deeper", None),
        ("<p>x</p>" * 2_700_000, None),
        ("<p>broken <b><i>markup</p></b><td>stray</table><<>><!-- open comment", "stray"),
        ("nul\x00bytes<p\x00>here</p>\x00", "nulbytes"),
        ("lone surrogate \ud800 and émoji 🎉 and 中文", "lone surrogate \ufffd and émoji 🎉"),
        ("", ""),
    ],
    ids=["2000-deep", "100k-deep", "21MB", "broken", "nul", "unicode", "empty"],
)
def test_huge_and_hostile_bodies_cost_the_parsers_bounded_work(
    parsers: ParserSpy, content: str, kept: str | None
) -> None:
    """A body too big or too deep for the parsers is never handed to them: the copy says so
    and links to Hudu. Everything else is parsed (once by each parser) and kept."""
    rendered = render(article(content))

    html = rendered.payload["description_html"]
    assert "\x00" not in html
    html.encode("utf-8")
    assert html.startswith("<div><p><strong>Article from Hudu")
    if kept is None:
        assert parsers.calls == []
        assert TOO_BIG in html and html.count(f"{HUDU}/kba/reset-the-vpn") == 2
    else:
        assert parsers.count("sanitiser") == 1 and parsers.count("lexbor") <= 1
        assert TOO_BIG not in html and kept in parse(rendered).text()


def test_a_5mb_body_is_parsed_once_and_rewritten_whole(parsers: ParserSpy) -> None:
    """5 MB of paragraphs of text, each with a link and a photo: each one is rewritten."""
    chunk = PHOTO_5MB + "<p>" + "Plain words about the printer on floor two. " * 16 + "</p>"
    body = chunk * 7_000
    assert len(body) > 5 * MB
    rendered = render(article(body))

    html = rendered.payload["description_html"]
    assert TOO_BIG not in html
    assert html.count(f'src="{HUDU}/public_photo/a"') == 7_000
    assert html.count(f'href="{HUDU}/kba/x"') == 7_000
    assert (parsers.count("sanitiser"), parsers.count("lexbor")) == (1, 0)


def test_unicode_survives() -> None:
    text = parse(render(article("<p>émoji 🎉 and 中文</p>"))).text()
    assert "émoji 🎉 and 中文" in text


def test_a_typical_article_is_parsed_once_and_each_link_looked_up_once(
    parsers: ParserSpy,
) -> None:
    """The cost of a typical article: one parse (the sanitiser's, which also rewrites its
    URLs), one lookup per linked article however often it is linked. (Render throughput is a
    benchmark matter, not a test's.)"""
    content = (
        "<h2>Title</h2><p>Some <strong>bold</strong> text and <a href='/kba/x'>a link</a> and "
        "<img src='/public_photo/abc'>.</p><ul><li>one</li><li>two</li></ul>"
        "<table><tr><td>a</td><td>b</td></tr></table>"
    ) * 10
    asked: list[str] = []

    def link_for_slug(slug: str) -> str | None:
        asked.append(slug)
        return None

    for n in range(50):
        rendered = render(article(content, id=n), link_for_slug=link_for_slug)
        html = rendered.payload["description_html"]
        assert html.count(f"{HUDU}/kba/x") == 10

    assert (parsers.count("sanitiser"), parsers.count("lexbor")) == (50, 0)
    assert asked == ["x"] * 50


@pytest.mark.parametrize(
    ("content", "kept", "gone"),
    [
        ('<p>a</p><iframe src="https://player.vimeo.com/video/1"></iframe>', "Video: ", "<iframe"),
        ('<p>a</p><img src="javascript:x" alt="gone"><img src="/x.png">', "/x.png", "gone"),
        ('<p>a</p><img alt="no source">', "<p>a</p>", "no source"),
    ],
    ids=["iframe", "img-src-dropped", "img-without-src"],
)
def test_only_a_body_with_frames_or_sourceless_images_is_parsed_again(
    parsers: ParserSpy, content: str, kept: str, gone: str
) -> None:
    html = render(article(content)).payload["description_html"]

    assert (parsers.count("sanitiser"), parsers.count("lexbor")) == (1, 1)
    assert kept in html and gone not in html and "javascript" not in html


def test_hudu_supplied_urls_outside_the_body_must_be_http() -> None:
    hostile = dataclasses.replace(upload(2, 40 * MB), url="javascript:alert(1)")
    rendered = render(article(url="javascript:alert(2)"), files=(hostile,))
    assert hrefs(rendered)[0] == f"{HUDU}/kba/reset-the-vpn"
    assert f"{HUDU}/file/2" in hrefs(rendered)
    assert "javascript" not in rendered.payload["description_html"]


# ---------------------------------------------------------------- customers and probe verdicts
def test_a_company_article_with_a_customer_is_restricted_to_it() -> None:
    company = article(company_id=3)
    restricted = render_article(company, hudu_base_url=HUDU, faqlist_id=7, client_id=12)
    open_ = render_article(company, hudu_base_url=HUDU, faqlist_id=7)
    sent = article_payload(restricted, halo_id=None)

    assert restricted.payload["kbentryclientaccess"] == [{"client_id": 12}]
    assert restricted.payload["showforall"] is False
    assert sent["kbentryclientaccess"] == [{"client_id": 12}]
    assert restricted.content_hash != open_.content_hash


def test_an_unrestricted_company_article_clears_a_restriction_outside_its_hash() -> None:
    company = render_article(article(company_id=3), hudu_base_url=HUDU, faqlist_id=7)
    central = render_article(article(), hudu_base_url=HUDU, faqlist_id=7)

    assert "kbentryclientaccess" not in company.payload
    assert article_payload(company, halo_id=5)["kbentryclientaccess"] == []
    # The hash is what it was before customers existed: an upgrade re-sends nothing.
    assert company.content_hash == content_hash(company.payload, [])
    assert "kbentryclientaccess" not in article_payload(central, halo_id=5)


def test_the_central_kb_is_never_restricted() -> None:
    rendered = render_article(article(), hudu_base_url=HUDU, faqlist_id=7, client_id=12)
    assert "kbentryclientaccess" not in article_payload(rendered, halo_id=None)
    assert "showforall" not in rendered.payload


@pytest.mark.parametrize(
    ("options", "present", "absent"),
    [
        (RenderOptions(body_fields=("description_html",)), {"description_html"}, {"description"}),
        (RenderOptions(body_fields=("description",)), {"description"}, {"description_html"}),
        (RenderOptions(tag_path="tags"), {"tags"}, {"tag_string"}),
    ],
)
def test_the_fields_follow_the_probe(
    options: RenderOptions, present: set[str], absent: set[str]
) -> None:
    default = render()
    adapted = render_article(article(), hudu_base_url=HUDU, faqlist_id=7, options=options)
    assert present <= set(adapted.payload) and not absent & set(adapted.payload)
    assert adapted.content_hash != default.content_hash  # the next pass re-sends it
    if "tags" in present:
        assert adapted.payload["tags"] == [{"text": "hudu"}, {"text": marker_for(42)}]


def test_files_are_linked_when_halo_drops_them_from_the_post() -> None:
    options = RenderOptions(attach_in_post=False, files_note="Halo drops files (probe)")
    rendered = render_article(
        article(), hudu_base_url=HUDU, faqlist_id=7, files=[upload(1, 1000)], options=options
    )
    assert rendered.files_to_attach == ()
    (skipped,) = rendered.skipped_files
    assert skipped.reason == "Halo drops files (probe)"
    assert f"{HUDU}/file/1" in hrefs(rendered)
    assert "attachments" not in article_payload(rendered, halo_id=None)
