"""Compile Markdown + LaTeX flashcards into an Anki package and a printable PDF cheatsheet."""

__version__ = "0.1.0"
