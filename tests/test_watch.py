"""`deckgen watch` driven as a user runs it: a real process, real file events, Ctrl-C."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

WAIT = 60.0  # seconds a rebuild may take on a loaded machine


class Watch:
    """A running `deckgen watch`, its output read line by line."""

    def __init__(self, project: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deckgen", "watch", "--only", "apkg", "--port", "0"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, text: str) -> None:
        """Wait for a line containing `text`; fail with everything printed so far."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "\n".join(self.seen)
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"no line with {text!r} in:\n" + "\n".join(self.seen))

    def stop(self) -> str:
        """Press Ctrl-C; return everything it printed."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=WAIT)
        self.reader.join(timeout=WAIT)  # the rest of the output, up to the end of the pipe
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "\n".join(self.seen)


def test_watch_rebuilds_on_save_and_survives_a_broken_card(project: Path) -> None:
    stats = project / "cards/01-statistics.md"
    apkg = project / "build/test-deck.apkg"
    watch = Watch(project)
    try:
        watch.expect("7 cards in 2 decks -> build/test-deck.apkg")
        time.sleep(0.5)  # the watch starts observing after its first build
        stats.write_text(stats.read_text().replace("The average of", "The plain mean of"))
        watch.expect("changed: cards/01-statistics.md")
        watch.expect("Anki will add 0 notes, update 1 and leave 6 unchanged")
        good = apkg.read_bytes()

        stats.write_text(stats.read_text() + "\n## Broken {#broken type=nope}\n\nA: x\n")
        watch.expect("cards/01-statistics.md:")
        watch.expect("the build failed: the last good outputs stay")
        assert apkg.read_bytes() == good

        stats.write_text(stats.read_text().replace(" type=nope", ""))
        watch.expect("8 cards in 2 decks")
        watch.expect("Anki will add 1 note, update 0 and leave 7 unchanged")
    finally:
        output = watch.stop()
    assert watch.process.returncode == 0 and "stopped" in output
    assert "Traceback" not in output
