from . import diffult  # noqa: F401
