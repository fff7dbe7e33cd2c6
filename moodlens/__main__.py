"""`python -m moodlens ...`: the same as the `moodlens` command."""

from moodlens.commands import main

if __name__ == "__main__":
    main()
