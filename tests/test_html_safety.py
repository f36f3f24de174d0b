"""URLs rewritten inside the sanitiser's parse (`urls_rewritten`): only URL attributes, only
while active, and never into a scheme the sanitiser would have refused."""

from __future__ import annotations

from core.html_safety import CLEANER, urls_rewritten


def test_only_kept_url_attributes_are_rewritten_and_only_while_active() -> None:
    seen: list[tuple[str, str, str]] = []

    def rewrite(tag: str, attribute: str, value: str) -> str:
        seen.append((tag, attribute, value))
        return "https://hudu.test" + value if value.startswith("/") else value

    body = (
        '<a href="/a" title="/t">a</a><img src="/i.png" alt="/alt">'
        '<blockquote cite="/c">q</blockquote><a href="javascript:alert(1)">x</a>'
    )
    with urls_rewritten(rewrite):
        cleaned = CLEANER.clean(body)

    assert seen == [("a", "href", "/a"), ("img", "src", "/i.png"), ("blockquote", "cite", "/c")]
    assert 'href="https://hudu.test/a"' in cleaned and 'title="/t"' in cleaned
    assert 'src="https://hudu.test/i.png"' in cleaned and 'alt="/alt"' in cleaned
    assert 'cite="https://hudu.test/c"' in cleaned and "javascript" not in cleaned
    assert 'href="/a"' in CLEANER.clean(body)  # not active any more


def test_a_rewrite_into_another_scheme_keeps_the_url_the_sanitiser_passed() -> None:
    """The sanitiser checks schemes before its callback, not after: a rewrite gone wrong
    (a Halo link that is not http) must not smuggle a script URL past it."""
    with urls_rewritten(lambda tag, attribute, value: "javascript:alert(1)"):
        cleaned = CLEANER.clean('<a href="/kba/x">a</a><img src="https://h/i.png">')

    assert "javascript" not in cleaned
    assert 'href="/kba/x"' in cleaned and 'src="https://h/i.png"' in cleaned
