"""``python -m airadar`` runs the command line."""

from airadar.cli.app import main

if __name__ == "__main__":  # not when a spawned worker process imports it
    main()
