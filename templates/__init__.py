"""Templates and stylesheets of the Anki cards and the PDF cheatsheet (editable without Python)."""

from __future__ import annotations

from importlib.resources import files


def read_template(name: str) -> str:
    """Return the text of a file in this folder."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")
