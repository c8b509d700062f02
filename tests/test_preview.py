"""The preview of `deckgen watch`: cards rendered as the official Anki package renders them, the
server's routes and refusals, and the page in headless Chromium following every save."""

from __future__ import annotations

import http.client
import json
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import genanki
import pytest
from conftest import FIXTURES, build_test_deck, deckgen, import_apkg
from reviewer import INSTALL_HELP, chromium_path

from deckgen.package import NOTE_TYPES
from deckgen.preview import HOST, Preview, read_apkg, render_sides

WAIT = 60.0  # seconds a build may take on a loaded machine


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test deck built once, package and both PDFs: its folder."""
    return build_test_deck(tmp_path_factory.mktemp("deck"))


@pytest.fixture
def preview() -> Iterator[Preview]:
    """A preview server on a free port, in this process."""
    served = Preview(0)
    yield served
    served.stop()


def test_every_side_of_every_card_renders_as_anki_renders_it(deck: Path, collection: Any) -> None:
    apkg = deck / "build/test-deck.apkg"
    package = read_apkg(apkg)
    import_apkg(collection, apkg)
    anki = {}
    for card_id in collection.find_cards(""):
        card = collection.get_card(card_id)
        anki[card.note().guid, card.ord] = (card.question(), card.answer())

    ours = {}
    for card in package.cards:
        style = f"<style>{package.styles[card.style]}</style>"
        ours[card.guid, card.ord] = (style + card.question, style + card.answer)
    assert ours == anki
    labels = [(card.title, card.label) for card in package.cards]
    assert labels[3:7] == [
        ("Standard error", "Cloze 1"),
        ("Standard error", "Cloze 2"),
        ("Bayes' theorem", "Card 1"),  # the reversed note type's two cards
        ("Bayes' theorem", "Card 2"),
    ]
    assert [card.deck for card in package.cards[:5]] == ["Test Deck::Statistics"] * 5


CLOZES = [
    r"plain {{c1::\(\frac{\sigma}{\sqrt{n} }\)}} and {{c2::\(1/\sqrt{n}\)::a power of n}}.",
    "escaped in data-cloze: {{c1::é λ 😀\t\n\"'<>&amp;::hint}} end",
    "nested {{c1::outer {{c2::inner}} tail}} and {{c2::again}}",
    r"tags inside math go: \(a + {{c1::<b>b</b>::h}}\) and \[{{c2::x}}\]",
    "stray }} {{c1::a}} {{c2::never closed",
    "hints {{c1::a::b::c}} {{c2::a {{c3::q}} b::h2}} {{c4::y::}}",
    "numbers {{c01::a}} {{c99999::z}} {{c2::}} {{{c3::x}}}",
    "deep " + "".join(f"{{{{c{i}::L{i} " for i in range(1, 13)) + "}}" * 12,
]


@pytest.mark.parametrize("text", CLOZES)
def test_cloze_markup_is_ankis(text: str, deck: Path, collection: Any) -> None:
    import_apkg(collection, deck / "build/test-deck.apkg")
    note_type = collection.models.by_name("deckgen Cloze")
    note = collection.new_note(note_type)
    note["Title"], note["Text"], note["Extra"] = "Title", text, "<p>extra</p>"
    collection.add_note(note, 1)
    assert note.cards()
    for card in note.cards():
        output = card.render_output()
        expected = (output.question_text, output.answer_text)
        assert render_sides(note_type, note.fields, card.ord) == expected, card.ord


@pytest.mark.parametrize("front", ["", " <br> ", "<div></div>\n", "<BR />", "\u00a0", "<p>x</p>"])
def test_an_empty_field_hides_its_section_as_in_anki(
    front: str, deck: Path, collection: Any
) -> None:
    import_apkg(collection, deck / "build/test-deck.apkg")
    note_type = collection.models.by_name("deckgen Basic")
    note = collection.new_note(note_type)
    note["Title"], note["Front"], note["Back"] = "Title", front, "back"
    collection.add_note(note, 1)
    [card] = note.cards()
    output = card.render_output()
    assert render_sides(note_type, note.fields, 0) == (output.question_text, output.answer_text)


def fetch(preview: Preview, path: str, host: str | None = None) -> tuple[int, Any, bytes]:
    """GET `path`: the status, the headers and the body."""
    connection = http.client.HTTPConnection(HOST, preview.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host or f"{HOST}:{preview.port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_the_server_answers_its_routes_and_the_package_media_and_nothing_else(
    deck: Path, preview: Preview
) -> None:
    outputs = [deck / "build" / name for name in ("test-deck.apkg", "test-deck.pdf")]
    preview.built(outputs)

    status, headers, page = fetch(preview, "/")
    assert status == 200
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
    assert "script-src" not in policy  # scripts fall back to default-src: none inline
    assert b"Normal curve" in page and b"Probability \xe2\x80\xba Rules" in page
    assert b'href="/pdf/test-deck.pdf"' in page

    with zipfile.ZipFile(outputs[0]) as apkg:
        [(member, name)] = json.loads(apkg.read("media")).items()
        image = apkg.read(member)
    assert fetch(preview, f"/media/{name}")[::2] == (200, image)
    assert fetch(preview, f"/media/{name}")[1]["Content-Type"] == "image/png"
    status, _, pdf = fetch(preview, "/pdf/test-deck.pdf")
    assert status == 200 and pdf.startswith(b"%PDF")
    status, headers, mathjax = fetch(preview, "/mathjax/tex-chtml-full.js")
    assert status == 200 and b'VERSION="3.2.2"' in mathjax
    font = fetch(preview, "/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff")
    assert font[0] == 200 and font[1]["Content-Type"] == "font/woff"

    for path in [
        "/nope",
        "/media/../../deck.yaml",
        "/media/..%2f..%2fcards%2fdeck.yaml",
        "/pdf/test-deck-handout.pdf",  # built, but not by this build's outputs
        "/../pyproject.toml",
        "/mathjax/../preview.py",
        "/templates/preview.css",
    ]:
        assert fetch(preview, path)[0] == 404, path


def test_a_request_naming_another_host_is_refused(deck: Path, preview: Preview) -> None:
    preview.built([deck / "build/test-deck.apkg"])
    for host in ["evil.example", f"evil.example:{preview.port}", f"127.0.0.1:{preview.port + 1}"]:
        status, _, text = fetch(preview, "/", host=host)
        assert status == 403 and b"Normal curve" not in text, host
    assert fetch(preview, "/", host=f"localhost:{preview.port}")[0] == 200


def test_a_failed_build_shows_its_problems_above_the_last_good_cards(
    deck: Path, preview: Preview
) -> None:
    preview.built([deck / "build/test-deck.apkg"])
    before = fetch(preview, "/version")[2]
    preview.failed("cards/01-statistics.md:3: unknown card type '<script>x</script>'\n1 problem")
    assert fetch(preview, "/version")[2] != before  # the page reloads itself
    page = fetch(preview, "/")[2].decode()
    assert "cards/01-statistics.md:3: unknown card type &#39;&lt;script&gt;" in page
    assert "<script>x</script>" not in page
    assert "cards below are from the last good build" in page
    assert page.index('id="banner"') < page.index("Sample mean")


def test_a_package_the_preview_cannot_read_is_a_problem_not_a_crash(
    deck: Path, preview: Preview, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    preview.built([deck / "build/test-deck.apkg"])
    broken = tmp_path / "broken.apkg"
    broken.write_bytes(b"not a zip file")
    preview.built([broken])
    page = fetch(preview, "/")[2].decode()
    assert f"{broken}:0: the preview cannot read it" in page and "Sample mean" in page
    assert f"{broken}:0: the preview cannot read it" in caplog.text


def test_a_build_of_pdfs_only_shows_only_their_links(deck: Path, preview: Preview) -> None:
    preview.built([deck / "build/test-deck.pdf", deck / "build/test-deck-handout.pdf"])
    page = fetch(preview, "/")[2].decode()
    assert "/pdf/test-deck.pdf" in page and "/pdf/test-deck-handout.pdf" in page
    assert "Sample mean" not in page and "<iframe" not in page
    assert "made no Anki package" in page


def test_a_taken_port_is_said_plainly(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = deckgen("watch", "--port", str(port))
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is taken" in result.output
    assert "--no-preview" in result.output and "Traceback" not in result.output


class Watch:
    """`deckgen watch` in a real process, its output read line by line."""

    def __init__(self, project: Path, *options: str) -> None:
        command = [sys.executable, "-m", "deckgen", "watch", "--only", "apkg", *options]
        self.process = subprocess.Popen(
            command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # the end of its output

    def expect(self, text: str) -> str:
        """Wait for a line containing `text` and return it; fail with everything printed."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in:\n" + "\n".join(self.seen))

    def stop(self) -> str:
        """Press Ctrl-C; return everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=WAIT)
        while (line := self.lines.get(timeout=WAIT)) is not None:
            self.seen.append(line)
        return "\n".join(self.seen)


def test_no_preview_serves_nothing(project: Path) -> None:
    with socket.socket() as taken:  # a preview would fail on it
        taken.bind((HOST, 0))
        taken.listen()
        watch = Watch(project, "--no-preview", "--port", str(taken.getsockname()[1]))
        try:
            watch.expect("7 cards in 2 decks")
        finally:
            output = watch.stop()
    assert watch.process.returncode == 0 and "preview:" not in output


@contextmanager
def chromium(origin: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page in Debian's Chromium refused every request outside `origin`: the page, the refused
    URLs, and its errors (a script or style the Content-Security-Policy blocked says so here)."""
    missing = [] if chromium_path() else ["Chromium: no `chromium` on PATH"]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("Playwright: the Python package `playwright` is not installed")
    if missing:  # as in test_browser.py: the tools are required
        pytest.fail("missing: " + "; ".join(missing) + "\n" + INSTALL_HELP, pytrace=False)
    elsewhere: list[str] = []
    problems: list[str] = []

    def only_the_preview(route: Any) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path()))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_the_preview)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            yield page, elsewhere, problems
        finally:
            browser.close()


@pytest.mark.browser
def test_the_page_shows_the_cards_as_anki_and_follows_every_save(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "deck", tmp_path / "cards")
    stats = tmp_path / "cards/01-statistics.md"
    watch = Watch(tmp_path, "--port", "0")
    try:
        url = watch.expect("preview: http://127.0.0.1:").split()[-1]
        watch.expect("7 cards in 2 decks")
        with chromium(url) as (page, elsewhere, problems):
            from playwright.sync_api import expect

            page.goto(url)
            front, back = page.frame_locator("#front"), page.frame_locator("#back")
            expect(front.locator("#qa")).to_contain_text("What is the sample mean")
            expect(front.locator("#qa mjx-container").first).to_be_visible()  # typeset

            page.click("#night")
            page.click("#phone")
            expect(front.locator("body")).to_have_class("card card1 nightMode night_mode")
            expect(front.locator("html")).to_have_class("night-mode")
            page.wait_for_function(
                "document.getElementById('front').contentWindow.innerWidth == 380"
            )
            card = front.locator("body").evaluate("body => getComputedStyle(body).backgroundColor")
            assert card == "rgb(30, 31, 34)"  # anki.css's night background

            page.click("text=Normal curve")
            expect(back.locator("img")).to_have_js_property("naturalWidth", 50)  # loaded
            page.click("text=Sample mean")

            stats.write_text(stats.read_text().replace("the sample mean of", "the plain mean of"))
            expect(front.locator("#qa")).to_contain_text("the plain mean of", timeout=WAIT * 1000)
            expect(front.locator("#qa mjx-container").first).to_be_visible()
            expect(front.locator("body")).to_have_class(re.compile("nightMode"))  # kept

            stats.write_text(stats.read_text() + "\n## Broken {#broken type=nope}\n\nA: x\n")
            banner = page.locator("#banner")
            expect(banner).to_contain_text("cards/01-statistics.md:", timeout=WAIT * 1000)
            expect(front.locator("#qa")).to_contain_text("the plain mean of")  # the last good
        assert elsewhere == [], "requests for anything but the preview"
        assert problems == [], "errors in the page (a blocked script or style says so here)"
    finally:
        output = watch.stop()
    assert watch.process.returncode == 0 and "stopped" in output
    assert "Traceback" not in output


@pytest.mark.browser
def test_a_hostile_card_runs_nothing_and_fetches_nothing(tmp_path: Path, preview: Preview) -> None:
    """deckgen writes no such card; the preview's Content-Security-Policy holds if one comes."""
    note_type = NOTE_TYPES["basic"]
    model = genanki.Model(
        note_type.id,
        note_type.name,
        fields=[{"name": name} for name in note_type.fields],
        templates=[{"name": n, "qfmt": q, "afmt": a} for n, q, a in note_type.templates],
    )
    hostile = (
        '<img src="missing.png" onerror="parent.document.title = 1">'
        '<a id="run" href="javascript:parent.document.title = 2">run</a>'
        '<img src="http://example.com/track.png">'
        "<style>@import url(http://example.com/steal.css);</style>"
    )
    deck = genanki.Deck(1 << 30, "Hostile")
    deck.add_note(genanki.Note(model=model, fields=["Hostile", hostile, "back"]))
    genanki.Package(deck).write_to_file(tmp_path / "hostile.apkg")
    preview.built([tmp_path / "hostile.apkg"])

    with chromium(preview.url) as (page, elsewhere, problems):
        page.goto(preview.url)
        page.wait_for_function("document.body.dataset.shown")
        page.frame_locator("#front").locator("#run").click()
        page.wait_for_timeout(300)
        assert page.title() == "Hostile · deckgen preview"
    assert elsewhere == []  # the policy stopped them before the route had to
    blocked = "\n".join(problems)
    assert "inline event handler violates" in blocked and "example.com/track.png" in blocked
