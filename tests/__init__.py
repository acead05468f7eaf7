"""The test suite (a package, so that tests import their helpers as
``tests.support``; the shared set-ups are fixtures in conftest.py)."""
