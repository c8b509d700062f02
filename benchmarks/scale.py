"""Print how deckgen scales against ankdown: python benchmarks/scale.py [SIZES...] [--runs N]

For each size (default 2000; issue 11 asks for 2000 and 20000) a synthetic deck is written by
benchmarks/synth.py in both formats, and these are timed, each run a fresh process, the median of
--runs (default 3): `deckgen build --only apkg` cold (after `deckgen clean`) and with nothing
changed, ankdown (a Markdown-to-Anki peer, installed by this script into a throwaway venv) on the
same cards, and for sizes up to 2000 the handout PDF, cold. Memory is the peak resident size of
the largest process of a run (deckgen's verification and typesetting workers included). Targets
(issue 11): cold within 2x ankdown; nothing changed under 1 s; peak under 300 MB; time growing
linearly; a 2,000-card handout under 60 s and 600 MB.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # the generator next to this script

HANDOUT_UP_TO = 2000  # cards: a 20,000-card handout (1,200 pages) takes many minutes

_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "if done.returncode: sys.exit(done.stderr.decode()[-2000:])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Run a command in a fresh process; return its seconds and peak memory in MB."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, int(done.stdout.split()[-1]) / 1024


def median_of(runs: int, command: list[str], cwd: Path, before: list[str] | None = None) -> str:
    seconds, memory = [], []
    for _ in range(runs):
        if before:
            subprocess.run(before, cwd=cwd, check=True, capture_output=True)
        s, mb = measure(command, cwd)
        seconds.append(s)
        memory.append(mb)
    return f"{statistics.median(seconds):8.2f} s {max(memory):6.0f} MB"


def main(argv: list[str]) -> None:
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 3
    sizes = [int(a) for a in argv if a.isdigit() and a != str(runs)] or [2000]
    deckgen = [sys.executable, "-m", "deckgen"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        venv = work / "ankdown-venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin/pip"), "install", "-q", "ankdown"], check=True, capture_output=True
        )
        print(f"median of {runs} runs, each a fresh process; peak memory of the largest process")
        for n in sizes:
            folder = work / str(n)
            synth.write(n, folder / "cards")
            synth.write(n, folder / "ankdown", ankdown=True)
            build = [*deckgen, "build", "--only", "apkg"]
            print(f"{n} cards")
            clean = [*deckgen, "clean"]
            print(f"  deckgen cold            {median_of(runs, build, folder, clean)}")
            print(f"  deckgen nothing changed {median_of(runs, build, folder)}")
            ankdown = [str(venv / "bin/ankdown"), "-r", "ankdown", "-p", "ankdown.apkg"]
            print(f"  ankdown                 {median_of(runs, ankdown, folder)}")
            if n <= HANDOUT_UP_TO:
                handout = [*deckgen, "build", "--only", "handout"]
                print(f"  deckgen handout, cold   {median_of(runs, handout, folder, clean)}")


if __name__ == "__main__":
    main(sys.argv[1:])
