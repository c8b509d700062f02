"""Verify every display formula's claims with SymPy: cached, in parallel, under a time limit."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import cache
from importlib.metadata import version
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from deckgen import cache as store
from deckgen.claims import Claim, Spec, Statement, read_paragraph, read_spec
from deckgen.errors import Problem, SourceLoc, quote
from deckgen.latex import At, Big, Deriv, Idx, Sym
from deckgen.markup import DisplayFormula, InlineFormula
from deckgen.model import Deck
from deckgen.statements import shape

log = logging.getLogger(__name__)


@cache
def _engine() -> str:
    """Identify the checker: its own source and SymPy's version; a change empties the cache."""
    here = Path(__file__).parent
    sources = b"".join((here / name).read_bytes() for name in _CHECKER)
    # the installed version, read without importing SymPy (a second) when every result is cached
    return f"{hashlib.sha256(sources).hexdigest()[:16]}-sympy-{version('sympy')}"


_CHECKER = ("latex.py", "claims.py", "symbolic.py", "verify.py")
TIME_LIMIT = 20.0  # seconds per claim, enforced by killing the worker
MEMORY_LIMIT = 4 * 1024**3
CACHE_NAME = "verify.json"
NO_BLOCK = "formula has no verify block: add claims, or `unverified: <reason>` for notation"


@dataclass(frozen=True)
class Job:
    """One claim to check: the spec it belongs to, which claim, and its cache key."""

    spec: Spec
    index: int
    key: str  # of the formula and block as written
    prove: bool = True  # False: only the spot checks (enough to know whether a claim fails)
    shape: str = ""  # key of the claim up to the names of its symbols ("": the same as key)

    @property
    def seed(self) -> int:
        return int(self.key[:12], 16)


@dataclass(frozen=True)
class Result:
    """What happened to one claim."""

    loc: SourceLoc
    label: str
    status: str  # proved, numeric, failed, or undecided (stopped: out of time or memory)
    message: str = ""


@dataclass(frozen=True)
class Inline:
    """An inline statement: checked (its claims are among the results), notation, or
    unverified (with why)."""

    loc: SourceLoc
    latex: str
    status: str
    reason: str = ""


@dataclass
class Report:
    """Verification of a whole deck: per-claim results and formulas that carry no claim."""

    formulas: list[tuple[SourceLoc, Spec | None, bool]] = field(default_factory=list)
    inline: list[Inline] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0  # claims checked now, not taken from the cache
    seconds: float = 0.0

    @property
    def failures(self) -> list[Problem]:
        """Failed claims, unreadable formulas and formulas with no verify block."""
        failed = [Problem(r.loc, r.message) for r in self.results if r.status == "failed"]
        bare = [Problem(loc, NO_BLOCK) for loc, reason in self.unclaimed() if reason is None]
        return self.problems + failed + bare

    def undecided(self) -> list[Problem]:
        """Claims the checker could not decide in its time or memory: not known to be false."""
        return [Problem(r.loc, r.message) for r in self.results if r.status == "undecided"]

    def strict_failures(self) -> list[Problem]:
        """Also every formula marked `unverified`, every unverified inline statement and every
        undecided claim: strict means every formula is checked."""
        marked = [
            Problem(loc, f"formula is unverified: {reason}")
            for loc, reason in self.unclaimed()
            if reason is not None
        ]
        return self.failures + marked + self.unverified_inline() + self.undecided()

    def unverified_inline(self) -> list[Problem]:
        return [
            Problem(s.loc, f"inline statement '{quote(s.latex, 80)}' is unverified: {s.reason}")
            for s in self.inline
            if s.status == "unverified"
        ]

    def unclaimed(self) -> list[tuple[SourceLoc, str | None]]:
        """Formulas with no claims: (where, the `unverified:` reason or None if none given)."""
        return [
            (loc, spec.unverified if spec else None)
            for loc, spec, has_block in self.formulas
            if (spec is None and not has_block) or (spec is not None and spec.unverified)
        ]

    def table(self) -> list[tuple[str, ...]]:
        """Rows per file, one column per heading of TABLE."""
        rows: dict[Path, Counter[str]] = {}
        for loc, spec, has_block in self.formulas:
            counts = rows.setdefault(loc.path, Counter())
            counts["formulas"] += 1
            counts["unverified"] += (spec is None and not has_block) or bool(
                spec and spec.unverified
            )
        for statement in self.inline:
            counts = rows.setdefault(statement.loc.path, Counter())
            counts["notation" if statement.status == "notation" else "inline"] += 1
            counts["unverified"] += statement.status == "unverified"
        for result in self.results:
            counts = rows.setdefault(result.loc.path, Counter())
            counts["claims"] += 1
            counts[result.status] += 1
        return [(str(path), *(str(c[name]) for name in TABLE[1:])) for path, c in rows.items()]


# the columns of `deckgen verify`: display formulas, inline statements (checked or not),
# inline notation (conditions, definitions, given), claims by outcome, statements with no claims
TABLE = (
    "file", "formulas", "inline", "notation", "claims", "proved", "numeric", "failed",
    "undecided", "unverified",
)  # fmt: skip


def check(
    deck: Deck, cache_dir: Path | None, *, save: bool = True, workers: int | None = None
) -> Report:
    """Check every claim of every display formula; reuse and update the cache in cache_dir."""
    started = time.perf_counter()
    report = Report()
    jobs: list[Job] = []
    for formula in (formula for note in deck.notes for formula in note.formulas):
        spec, problems = _spec(formula)
        report.formulas.append((formula.loc, spec, formula.block is not None))
        report.problems += problems
        jobs += _jobs(spec, formula.latex, formula.block) if spec else []
    for paragraph in _paragraphs(deck):
        jobs += _check_inline(paragraph, report)
    cache = _load_cache(cache_dir)
    todo = [job for job in jobs if _cached(job, cache) is None]
    fresh = check_once(todo, workers or _cpus())
    cache.update({key: outcome for key, outcome in fresh.items() if not outcome.get("stopped")})
    report.results = [_result(job, _cached(job, cache) or _cached(job, fresh)) for job in jobs]
    report.checked = len(todo)
    if cache_dir is not None and fresh and save:
        used = {key for job in jobs for key in (job.key, job.shape) if key in cache}
        _save_cache(cache_dir, {key: cache[key] for key in used})
    report.seconds = time.perf_counter() - started
    return report


def _spec(formula: DisplayFormula) -> tuple[Spec | None, list[Problem]]:
    if formula.block is None:
        return None, []
    return read_spec(formula.latex, formula.loc, list(formula.block))


_RELATION = re.compile(r"[=<>]|\\(?:n?eq|le|leq|ge|geq|ne|approx)(?![A-Za-z])")


def _paragraphs(deck: Deck) -> list[list[InlineFormula]]:
    """Inline formulas in runs that share a verify block (or have none)."""
    runs: list[list[InlineFormula]] = []
    for formula in (formula for note in deck.notes for formula in note.inline):
        if runs and runs[-1][0].block == formula.block and runs[-1][0].loc.path == formula.loc.path:
            runs[-1].append(formula)
        else:
            runs.append([formula])
    return runs


def _check_inline(formulas: list[InlineFormula], report: Report) -> list[Job]:
    """Note each inline statement's status; return the jobs for its claims."""
    jobs: list[Job] = []
    statements: list[Statement] = []
    for formula in formulas:
        found = shape(formula.latex)
        if found is None:
            continue
        closed = closed_statement(formula)
        if closed is not None:
            report.inline.append(Inline(formula.loc, formula.latex, "checked"))
            jobs += _jobs(closed, formula.latex, ())
        else:
            statements.append(Statement(formula.latex, formula.loc, found))
    block = formulas[0].block
    if block is None:
        report.inline += [_unblocked(statement) for statement in statements]
        return jobs
    if not statements:
        where = block[0][1] if block else formulas[0].loc
        report.problems.append(Problem(where, NOTHING_INLINE))
        return jobs
    paragraph = read_paragraph(statements, list(block))
    report.problems += paragraph.problems
    for index, (statement, status) in enumerate(zip(statements, paragraph.status, strict=True)):
        reason = paragraph.reasons.get(index, "it makes no claim the block can check")
        report.inline.append(Inline(statement.loc, statement.latex, status, reason))
    if paragraph.spec is not None and paragraph.spec.claims:
        jobs += _jobs(paragraph.spec, paragraph.spec.latex, block)
    return jobs


NOTHING_INLINE = "the paragraph above states nothing for this verify block to check"
NO_PARAGRAPH_BLOCK = "add a verify block under its paragraph, or `given:` it there if assumed"


def _unblocked(statement: Statement) -> Inline:
    status = "unverified" if statement.shape.kind == "claim" else "notation"
    return Inline(statement.loc, statement.latex, status, NO_PARAGRAPH_BLOCK)


def closed_statement(inline: InlineFormula) -> Spec | None:
    """Inline math that relates numbers alone (`99/594 = 1/6`, `e^{-1} \\approx 0.368`): its
    claims need no verify block. None if it relates nothing or names a symbol."""
    if not _RELATION.search(inline.latex):
        return None
    spec, problems = read_spec(inline.latex, inline.loc, [])
    return spec if spec is not None and spec.claims and not problems else None


def _jobs(spec: Spec, latex: str, block: tuple[tuple[str, SourceLoc], ...] | None) -> list[Job]:
    assert block is not None
    source = json.dumps([_engine(), latex, [text for text, _ in block]])
    shape = json.dumps([_engine(), _shape(spec, {})])
    return [
        Job(
            spec,
            index,
            hashlib.sha256(f"{source}#{index}".encode()).hexdigest(),
            shape=hashlib.sha256(f"{shape}#{index}".encode()).hexdigest(),
        )
        for index in range(len(spec.claims))
    ]


def _shape(value: Any, names: dict[str, str]) -> Any:
    """The spec as data with its symbols renamed in order of appearance, without source text.

    Two claims of one shape say the same thing of differently named symbols: one check answers
    for both when it passes (a failure is checked again under its own names, for its message).
    """
    if isinstance(value, Spec):
        domains = [[_rename(name, names), _shape(d, names)] for name, d in value.domains.items()]
        families = sorted(_rename(name, names) for name in sorted(value.families))
        randoms = [[_rename(name, names), _shape(dist, names)] for name, dist in value.randoms]
        simplex = sorted(_rename(name, names) for name in sorted(value.simplex))
        return [domains, families, randoms, simplex, _shape(value.claims, names)]
    if isinstance(value, Sym):
        return ["Sym", _rename(value.name, names)]
    if isinstance(value, Idx):
        return ["Idx", _rename(value.family, names), _shape(value.index, names)]
    if isinstance(value, (Big, Deriv, At)):
        return _fields(replace(value, var=_rename(value.var, names)), names, skip=())
    if isinstance(value, Claim):
        renamed = replace(
            value,
            var=_rename(value.var, names) if value.var else None,
            param=_rename(value.param, names) if value.param else None,
        )
        return _fields(renamed, names, skip=("loc", "text"))
    if is_dataclass(value):
        return _fields(value, names, skip=())
    if isinstance(value, (tuple, list)):
        return [_shape(item, names) for item in value]
    return value if value is None or isinstance(value, (str, bool, int)) else str(value)


def _fields(value: Any, names: dict[str, str], skip: tuple[str, ...]) -> list[Any]:
    shaped = [_shape(getattr(value, f.name), names) for f in fields(value) if f.name not in skip]
    return [type(value).__name__, *shaped]


def _rename(name: str, names: dict[str, str]) -> str:
    return names.setdefault(name, f"v{len(names)}")


def _cached(job: Job, cache: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The outcome for the claim as written, else a pass of a claim of the same shape."""
    return cache.get(job.key) or cache.get(job.shape)


def check_once(jobs: list[Job], workers: int) -> dict[str, dict[str, Any]]:
    """Check each shape of claim once; a pass is kept under the shape, all else under the key."""
    first: dict[str, Job] = {}
    for job in jobs:
        first.setdefault(job.shape or job.key, job)
    by_key = {job.key: job for job in first.values()}
    results: dict[str, dict[str, Any]] = {}
    for key, outcome in run(list(by_key.values()), workers).items():
        job = by_key[key]
        passed = outcome["status"] in ("proved", "numeric") and job.shape
        results[job.shape if passed else key] = outcome
    again = [job for job in jobs if _cached(job, results) is None]
    results.update(run(list({job.key: job for job in again}.values()), workers))
    return results


def _result(job: Job, outcome: dict[str, Any] | None) -> Result:
    assert outcome is not None
    claim = job.spec.claims[job.index]
    return Result(claim.loc, claim.label, outcome["status"], outcome.get("message", ""))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# --- the cache --------------------------------------------------------------------------------


def _load_cache(cache_dir: Path | None) -> dict[str, dict[str, Any]]:
    stored = store.get(cache_dir, CACHE_NAME) if cache_dir else None
    if stored is None:
        return {}  # none yet, or damaged (its SHA-256 does not match): it only costs time
    try:
        data = json.loads(stored)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: entry for key, entry in data.items() if _valid_entry(entry)}


def _valid_entry(entry: Any) -> bool:
    """Whether a cached outcome has the shape `run` gives (anything else is checked again)."""
    return (
        isinstance(entry, dict)
        and entry.get("status") in ("proved", "numeric", "failed")
        and isinstance(entry.get("message", ""), str)
    )


def _save_cache(cache_dir: Path, entries: dict[str, dict[str, Any]]) -> None:
    store.put(cache_dir, CACHE_NAME, json.dumps(entries, sort_keys=True, indent=0).encode())


# --- worker processes with a hard time limit --------------------------------------------------


def run(jobs: list[Job], workers: int, limit: float | None = None) -> dict[str, dict[str, Any]]:
    """Check jobs in worker processes; a claim running past `limit` seconds is stopped."""
    if not jobs:
        return {}
    limit = TIME_LIMIT if limit is None else limit
    context = _context()
    pool = [_Worker(context) for _ in range(min(workers, len(jobs)))]
    # Likely-slow claims first (sums over indexed data), so no core idles at the end.
    queue = sorted(jobs, key=lambda job: (not job.spec.families, -len(job.spec.latex)))
    results: dict[str, dict[str, Any]] = {}
    try:
        while queue or any(worker.job for worker in pool):
            for worker in pool:
                if worker.job is None and queue:
                    worker.give(queue.pop(0))
            busy = [worker for worker in pool if worker.job is not None]
            deadline = min(worker.started + limit for worker in busy)
            ready = wait([worker.conn for worker in busy], max(0.0, deadline - time.monotonic()))
            for index, worker in enumerate(pool):
                if worker.conn in ready:
                    results.update(worker.collect())
                    if not worker.process.is_alive():
                        worker.close()
                        pool[index] = _Worker(context)
                elif worker.job is not None and time.monotonic() >= worker.started + limit:
                    results[worker.job.key] = _stopped(worker.job, limit)
                    worker.close()
                    pool[index] = _Worker(context)
    finally:
        for worker in pool:
            worker.close()
    return results


def _stopped(job: Job, limit: float) -> dict[str, Any]:
    label = job.spec.claims[job.index].label
    message = f"{label}: undecided: stopped after {limit:.0f} s, too long to check (huge numbers?)"
    return {"status": "undecided", "message": message, "stopped": True}


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["deckgen.symbolic"])
        return context
    return multiprocessing.get_context("spawn")


class _Worker:
    """A process that checks one job at a time, sent over a pipe."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.started = 0.0

    def give(self, job: Job) -> None:
        self.job, self.started = job, time.monotonic()
        self.conn.send(job)

    def collect(self) -> dict[str, dict[str, Any]]:
        assert self.job is not None
        job, self.job = self.job, None
        try:
            outcome: dict[str, Any] = self.conn.recv()
        except (EOFError, OSError):  # the process died (out of memory, killed): run() replaces it
            label = job.spec.claims[job.index].label
            message = f"{label}: undecided: the checker process died"
            outcome = {"status": "undecided", "message": message, "stopped": True}
            self.process.join()
        return {job.key: outcome}

    def close(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


def _serve(conn: Connection) -> None:
    """Worker loop: receive a job, check it, send back the outcome as plain data."""
    _limit_memory()
    from deckgen.symbolic import check as check_claim

    while True:
        try:
            job: Job = conn.recv()
        except EOFError:
            return
        reply: dict[str, Any]
        try:
            outcome = check_claim(job.spec, job.index, job.seed, prove=job.prove)
            reply = {"status": outcome.status, "message": outcome.message}
        except MemoryError:
            label = job.spec.claims[job.index].label
            message = f"{label}: undecided: ran out of memory while checking"
            reply = {"status": "undecided", "message": message, "stopped": True}
        except Exception as err:  # SymPy gave up on something it cannot do: the claim fails
            label = job.spec.claims[job.index].label
            reply = {"status": "failed", "message": f"{label}: SymPy cannot check this ({err})"}
        conn.send(reply)


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform: the time limit still applies
