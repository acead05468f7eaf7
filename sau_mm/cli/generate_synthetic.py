"""``python -m sau_mm.cli.generate_synthetic {plan,prompts,generate,filter,
inspect} ...``: the text-to-image stages, whose command line lives with them
in :mod:`sau_mm.generation.text2image.cli` (usage: ``--help``)."""
import sys

from sau_mm.generation.text2image.cli import main

if __name__ == '__main__':
    sys.exit(main())
