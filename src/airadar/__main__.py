"""``python -m airadar`` runs the command line."""

from airadar.cli.app import main

main()
