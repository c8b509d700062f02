"""Templates and stylesheets of the Anki cards and the PDF cheatsheet (deckgen.templates)."""
