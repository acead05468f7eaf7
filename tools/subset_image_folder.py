"""Copy the first N images of every class of an image folder (smoke runs).

python tools/subset_image_folder.py SRC DST --per-class train=50 test=20

The command line lives in sau_mm.cli.subset_image_folder (also ``python -m
sau_mm.cli.subset_image_folder``); see its docstring.
"""
from sau_mm.cli.subset_image_folder import main

if __name__ == '__main__':
    main()
