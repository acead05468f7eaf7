from .long_tail_accuracy import LongTailAccuracy  # noqa: F401
