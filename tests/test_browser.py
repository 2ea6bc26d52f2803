"""The pages in a real browser: Debian's Chromium driven by Playwright, against the real app
served by uvicorn on loopback. Screenshots go to var/screenshots/ (BRIEFING_TEST_SCREENSHOTS).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.feed_samples import STORY_A
from tests.feed_samples import page as feed_page
from tests.loopback_site import LoopbackSite, Reply
from tests.web_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    live_server,
    skip_or_fail,
)

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

# A plain-text article whose sentences carry markup: it must show as text and never run (the
# extractive engine copies its sentences into the briefings).
HOSTILE_ARTICLE = (
    "Harbor officials said 42 ships waited outside the port of Rotterdam on Tuesday after a "
    'hacker posted the line <script>document.title="pwned";window.__xss=1</script> on the '
    "port's public notice board, where it stayed for most of the morning.\n\n"
    "The strike began after talks over pay collapsed late on Monday night, and a second note, "
    "which read <img src=x onerror=\"window.__xss=2\"> in plain letters, was taken down by "
    "the port's own staff before noon.\n\n"
    "Dock workers want a raise of 7 percent, the union said in a statement on Tuesday, and "
    "they say that the offer on the table does not keep up with the rising cost of living.\n\n"
    "Shipping companies warned that delays could last for weeks, and several of them said "
    "they were already sending their ships to other ports along the coast of the North Sea.\n\n"
    "The port authority said it expected both sides to return to the table by the end of the "
    "week, and that it would keep the public informed about the situation every day."
)
HOSTILE_TITLE = '<img src=x onerror="window.__xss=3">Rotterdam strike'
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 375, "height": 740}
EXPECTED_STATUS = re.compile(r"Failed to load resource: the server responded with a status of "
                             r"(\d+)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        skip_or_fail("Playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium; `make test` does "
                     "this when run as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Console:
    """Console errors and uncaught page errors; HTTP statuses a test expects are allowed."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def unexpected(self, *statuses: int) -> list[str]:
        left = []
        for error in self.errors:
            found = EXPECTED_STATUS.search(error)
            if not (found and int(found.group(1)) in statuses):
                left.append(error)
        return left


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., tuple[Page, Console]]]:
    contexts = []

    def make(viewport: dict[str, int] = DESKTOP, scheme: str = "light") -> tuple[Page, Console]:
        context = browser.new_context(viewport=viewport, color_scheme=scheme)
        contexts.append(context)
        page = context.new_page()
        console = Console()
        console.watch(page)
        return page, console

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def server(make_settings: Callable[..., Settings]) -> Iterator[str]:
    with live_server(make_settings()) as url:
        yield url


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def no_xss(page: Page) -> None:
    assert page.evaluate("window.__xss") is None
    assert "pwned" not in page.title()


def post(base: str, key: str | None = None, **body: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.post(f"{base}/v1/briefings", json=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def contrast(page: Page, selector: str) -> float:
    """WCAG contrast ratio of an element's text against the page background."""
    return float(page.evaluate(
        """(selector) => {
            const lum = (css) => {
              const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
                v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
              return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const el = document.querySelector(selector);
            let back = el, bg = "rgba(0, 0, 0, 0)";
            while (back && /rgba\\(.*, 0\\)$/.test(bg)) {
              bg = getComputedStyle(back).backgroundColor; back = back.parentElement;
            }
            const [a, b] = [lum(getComputedStyle(el).color), lum(bg)].sort((x, y) => y - x);
            return (a + 0.05) / (b + 0.05);
        }""",
        selector,
    ))


def test_briefing_an_article_with_markup_shows_it_escaped_and_flags_marked(
    server: str, open_page: Callable[..., tuple[Page, Console]]
) -> None:
    page, console = open_page()
    response = page.goto(server + "/")
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    # Every control has a label.
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, textarea, select')]
        .filter((el) => el.type !== 'hidden' && !el.labels.length && !el.getAttribute('aria-label'))
        .map((el) => el.id || el.name)""")
    assert unlabeled == []
    # Record whether the progress indicator was shown while the briefing was written.
    page.evaluate("""() => { window.__progressShown = false;
        new MutationObserver(() => { if (!document.getElementById('progress').hidden)
          window.__progressShown = true; })
        .observe(document.getElementById('progress'), {attributes: true}); }""")
    # Keyboard only: the title field, the article, then the button.
    page.get_by_label("Title").focus()
    page.keyboard.type(HOSTILE_TITLE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "text"
    page.get_by_label("Article", exact=True).fill(HOSTILE_ARTICLE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "url"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "brief-button"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the focused button shows no focus ring"
    page.keyboard.press("Enter")
    page.wait_for_selector("#result .briefing")
    assert page.evaluate("window.__progressShown") is True
    assert page.locator("#progress").is_hidden()
    assert page.locator("#brief-button").is_enabled()

    result = page.locator("#result")
    # The markup shows as text: no element came from the article, nothing ran.
    assert result.locator("script, img, iframe").count() == 0
    short = page.locator("section[aria-labelledby=short-heading] .briefing-text").inner_text()
    long = page.locator("section[aria-labelledby=long-heading] .briefing-text").inner_text()
    assert '<script>document.title="pwned";window.__xss=1</script>' in short
    assert '<img src=x onerror="window.__xss=2">' in long
    assert page.locator("#briefing-heading").inner_text() == HOSTILE_TITLE
    no_xss(page)
    assert "extractive" in result.locator(".meta").first.inner_text()
    # no model ran: what was read, without model figures
    assert "Removed" in result.inner_text()
    assert "what was read" in result.inner_text().lower()  # the headings are set in capitals
    assert "Model input" not in result.inner_text()
    for selector in ("body", ".hint", "#result .meta", "nav a"):
        assert contrast(page, selector) >= 4.5, selector
    shot(page, "briefing")
    assert console.unexpected() == []


def test_the_checkers_flags_are_marked_with_the_facts_it_could_not_find(
    make_settings: Callable[..., Settings], tiny_model_dir: Path,
    open_page: Callable[..., tuple[Page, Console]],
) -> None:
    # The tiny model writes noise, and the checker flags the names in it that the article
    # lacks: the real path from generation through the checker to the page.
    with live_server(make_settings(engine="seq2seq", model=str(tiny_model_dir))) as base:
        page, console = open_page()
        page.goto(base + "/")
        page.get_by_label("Article", exact=True).fill(HOSTILE_ARTICLE)
        page.get_by_role("button", name="Write the briefing").click()
        page.wait_for_selector("#result .briefing", timeout=180_000)  # a model on a busy CPU
        link = page.get_by_role("link", name="Link to this briefing").get_attribute("href")
        assert link is not None
        answer = httpx.get(base + "/v1" + link, timeout=30).json()
        flags = answer["checks"]["unsupported"]
        assert flags, "the checker found nothing to flag in the tiny model's noise"
        assert "seq2seq" in page.locator("#result .meta").first.inner_text()
        note = page.locator(".flagged-note").inner_text()
        assert note.startswith(f"{len(flags)} sentence") and "could not find" in note
        for kind in ("short", "long"):
            mine = [f for f in flags if f["briefing"] == kind]
            section = page.locator(f"section[aria-labelledby={kind}-heading]")
            marks = section.locator("mark.flag")
            assert marks.count() == len(mine)
            def words(text: str) -> str:  # the browser shows runs of spaces as one
                return " ".join(text.split())

            assert sorted(map(words, marks.all_inner_texts())) == sorted(
                words(f["sentence"]) for f in mine
            )
            listed = section.locator("ol.flags li").all_inner_texts()
            assert len(listed) == len(mine)
            for item in listed:
                assert item.startswith("not found in the article: ")
            for flag in mine:
                assert any(all(words(fact) in item for fact in flag["missing"])
                           for item in listed)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for selector in ("mark.flag", ".flagged-note", ".flags li"):
                assert contrast(page, selector) >= 4.5, (scheme, selector)
        page.emulate_media(color_scheme="light")
        shot(page, "flags", full_page=False)
        assert console.unexpected() == []


def test_briefing_a_page_by_its_url(
    make_settings: Callable[..., Settings], open_page: Callable[..., tuple[Page, Console]],
    site: LoopbackSite,
) -> None:
    site.route("/2026/harbour", Reply(body=feed_page(
        "Harbour <i>deepened</i> after <script>window.__xss=4</script> vote", STORY_A,
        canonical="https://coast.example/harbour")))
    with live_server(make_settings(fetch_allow_hosts="127.0.0.1", fetch_timeout_s=10)) as base:
        page, console = open_page()
        page.goto(base + "/")
        page.get_by_label("Or the article’s address").fill(site.url("/2026/harbour"))
        page.get_by_role("button", name="Write the briefing").click()
        page.wait_for_selector("#result .briefing")
        heading = page.locator("#briefing-heading").inner_text()
        assert heading == "Harbour <i>deepened</i> after <script>window.__xss=4</script> vote"
        assert "Vellmar" in page.locator("#result").inner_text()
        source = page.get_by_role("link", name="Coast Post")
        assert source.get_attribute("href") == "https://coast.example/harbour"
        no_xss(page)
        # A page the address guard refuses: the API's words, the form keeps the URL.
        page.get_by_label("Or the article’s address").fill("http://10.0.0.1/private")
        page.get_by_role("button", name="Write the briefing").click()
        page.locator("#result .error").wait_for()
        api = httpx.post(f"{base}/v1/briefings", json={"url": "http://10.0.0.1/private"})
        assert api.json()["error"]["message"] in page.locator("#result .error").inner_text()
        assert console.unexpected(api.status_code) == []


def test_an_error_says_what_to_do_in_plain_words_with_the_apis_code(
    server: str, open_page: Callable[..., tuple[Page, Console]]
) -> None:
    page, console = open_page()
    page.goto(server + "/")
    page.get_by_label("Article", exact=True).fill("   \n  ")
    page.get_by_role("button", name="Write the briefing").click()
    error = page.locator("#result .error")
    error.wait_for()
    api = httpx.post(f"{server}/v1/briefings", json={"text": "   \n  "}).json()["error"]
    assert "Paste an article's text, or give its URL." in error.inner_text()
    assert api["message"] not in error.inner_text()  # the API's words are for API clients
    assert api["code"] in error.inner_text()
    assert contrast(page, "#result .error-message") >= 4.5
    assert console.unexpected(422) == []


def test_the_api_docs_render_with_no_way_out(
    server: str, open_page: Callable[..., tuple[Page, Console]]
) -> None:
    page, console = open_page()
    elsewhere: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:  # a closed network: anything else fails, and is noted
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(server + "/docs")
    operation = page.locator(".opblock-summary-path", has_text="/v1/briefings").first
    operation.wait_for(timeout=20_000)  # Swagger UI ran and read /openapi.json
    assert page.locator(".opblock").count() >= 5
    assert elsewhere == []
    shot(page, "api-docs", full_page=False)
    assert console.unexpected() == []


def test_articles_and_digest_pages(
    server: str, open_page: Callable[..., tuple[Page, Console]]
) -> None:
    story = ("The city council of Lisbon approved a new tram line on Wednesday, with 14 stops "
             "between the airport and the river. Work starts in March and costs 210 million "
             "euros, the mayor said. Residents of the eastern districts have waited ten years "
             "for the line.")
    day = datetime.now(UTC).date().isoformat()
    first = post(server, text=story, title="Lisbon approves airport tram",
                 source="Lisbon Daily", url="https://lisbon.example/tram")
    post(server, text=story + " Opponents say the route is too long.",
         title="New tram line for Lisbon", source="Iberia Wire", url="javascript:alert(1)")
    post(server, text=HOSTILE_ARTICLE, title=HOSTILE_TITLE, source="<b>Harbour</b> News")

    page, console = open_page()
    page.goto(f"{server}/articles?date={day}")
    cards = page.locator("ol.cards > li")
    assert cards.count() == 3
    text = page.locator("main").inner_text()
    assert HOSTILE_TITLE in text and "<b>Harbour</b> News" in text
    assert page.locator("main img, main b, main script").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    no_xss(page)
    shot(page, "articles")
    # Each article opens its briefing.
    page.get_by_role("link", name="Lisbon approves airport tram").click()
    page.wait_for_url(f"**/briefings/{first['id']}")
    assert first["short"] in page.locator(".briefing").inner_text()

    page.goto(f"{server}/digests/{day}")
    stories = page.locator("ol.stories > li")
    assert stories.count() == 2
    assert "2 sources" in stories.first.inner_text()
    assert "Iberia Wire, Lisbon Daily" in stories.first.inner_text()
    assert "digest so far" in page.locator("main").inner_text()
    assert "no Slack webhook is configured" in page.locator(".delivery").inner_text()
    no_xss(page)
    shot(page, "digest")
    # The previous day: no digest there yet, said in words, and the way back.
    page.get_by_role("link", name=re.compile("previous day")).click()
    assert "No digest was built for this day." in page.locator("main").inner_text()
    page.get_by_role("link", name=re.compile("next day")).click()
    assert page.locator("ol.stories > li").count() == 2
    # A day to come: said so, nothing to build, and a link back to today.
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    page.goto(f"{server}/digests/{tomorrow}")
    assert "This day has not come yet" in page.locator("main").inner_text()
    assert page.locator("main form[method=post], main .build").count() == 0
    page.get_by_role("link", name="Today", exact=True).click()
    assert page.locator("ol.stories > li").count() == 2
    # An unknown address: a page that says so, with the way home.
    response = page.goto(f"{server}/no/such/page")
    assert response is not None and response.status == 404
    assert "Page not found" in page.locator("h1").inner_text()
    for selector in (".error-message", ".error-code", "#result .more a"):
        assert contrast(page, selector) >= 4.5, selector
    page.get_by_role("link", name="Brief an article").first.click()
    page.get_by_label("Article", exact=True).wait_for()
    assert console.unexpected(404) == []


def test_phone_width(server: str, open_page: Callable[..., tuple[Page, Console]]) -> None:
    post(server, text=HOSTILE_ARTICLE, title="Rotterdam dock strike", source="Port Wire")
    page, console = open_page(PHONE)
    for path in ("/", f"/articles?date={datetime.now(UTC).date()}", "/digests"):
        page.goto(server + path)
        if path == "/":
            page.get_by_label("Article", exact=True).fill(HOSTILE_ARTICLE)
            page.get_by_role("button", name="Write the briefing").click()
            page.wait_for_selector("#result .briefing")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at phone width"
        if path == "/":
            shot(page, "phone-briefing")
    shot(page, "phone-digest")
    assert console.unexpected() == []


def test_dark_scheme_keeps_the_contrast(
    server: str, open_page: Callable[..., tuple[Page, Console]]
) -> None:
    page, console = open_page(scheme="dark")
    page.goto(server + "/")
    page.get_by_label("Article", exact=True).fill(HOSTILE_ARTICLE)
    page.get_by_role("button", name="Write the briefing").click()
    page.wait_for_selector("#result .briefing")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(251, 251, 249)"
    for selector in ("body", ".hint", "#result .meta", "nav a", "button"):
        assert contrast(page, selector) >= 4.5, selector
    shot(page, "dark-briefing", full_page=False)
    assert console.unexpected() == []


def test_api_key_prompt(
    make_settings: Callable[..., Settings], open_page: Callable[..., tuple[Page, Console]]
) -> None:
    key = "page-test-key-1"
    with live_server(make_settings(api_keys=key)) as base:
        post(base, key, text=HOSTILE_ARTICLE, title="Kept behind the key", source="Port Wire")
        page, console = open_page()
        response = page.goto(base + "/articles")
        assert response is not None and response.status == 401
        # No key, no data: the prompt, and nothing of the article.
        assert page.get_by_label("API key").is_visible()
        assert "Kept behind the key" not in page.content()
        shot(page, "api-key", full_page=False)
        page.get_by_label("API key").fill("wrong-key")
        page.get_by_role("button", name="Use this key").click()
        page.locator("#key-error").wait_for()
        assert "refused" in page.locator("#key-error").inner_text()
        assert "Kept behind the key" not in page.content()

        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Use this key").click()
        page.get_by_text("Kept behind the key").wait_for()
        assert page.locator("#key-form").is_hidden()
        assert page.evaluate("sessionStorage.getItem('briefing-api-key')") == key
        # Other pages load with the kept key; the form sends it too.
        page.get_by_role("link", name="Digest", exact=True).click()
        page.get_by_text("Kept behind the key").wait_for()
        # A past day's build button sends the key too, and shows the run it started.
        page.goto(base + "/digests/2020-01-05")
        page.get_by_role("button", name="Build this day’s digest").click()
        page.get_by_text(re.compile("queued|being built|No stories")).first.wait_for()
        assert page.locator("main .build").count() == 0
        page.get_by_role("link", name="Brief an article").click()
        page.get_by_label("Article", exact=True).fill(HOSTILE_ARTICLE)
        page.get_by_role("button", name="Write the briefing").click()
        page.wait_for_selector("#result .briefing")
        no_xss(page)
        # Forgetting the key hides the data again.
        page.get_by_role("button", name="Forget the key").click()
        page.get_by_label("API key").wait_for()
        page.goto(base + "/articles")
        assert "Kept behind the key" not in page.content()
        assert page.evaluate("sessionStorage.getItem('briefing-api-key')") is None
        assert console.unexpected(401, 404) == []  # 404: the past day had no digest yet
