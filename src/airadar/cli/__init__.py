"""The ``airadar`` command line."""
