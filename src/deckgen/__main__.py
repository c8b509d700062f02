"""`python -m deckgen` runs the command line."""

from deckgen.cli import main

if __name__ == "__main__":  # not when a verification worker process re-imports this module
    main()
