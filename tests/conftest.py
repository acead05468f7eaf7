import os
import sys

# Tests import sau_mm (compat fixes) before anything else, and the data factory.
sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault('OMP_NUM_THREADS', '2')

import sau_mm  # noqa: E402,F401
