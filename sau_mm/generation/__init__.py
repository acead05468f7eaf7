"""Synthetic-data generators that write the synthetic manifest
(:mod:`sau_mm.datasets.manifest`): :mod:`.text2image` (pretrained
text-to-image models, CLIP filtering) and :mod:`.diffult` (a diffusion model
trained on the long-tailed set itself). Import the one you use; each pulls in
its own heavy dependencies."""
