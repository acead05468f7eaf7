"""Make the text-to-image synthetic complement of a long-tailed dataset:
stages plan, prompts, generate, filter, inspect (usage: ``--help``, also
after a stage name; README "Text-to-image + CLIP filter"). The command line
lives in sau_mm.generation.text2image.cli."""
import sys

import sau_mm  # noqa: F401  (compat fixes + registration, first)
from sau_mm.generation.text2image.cli import main

if __name__ == '__main__':
    sys.exit(main())
