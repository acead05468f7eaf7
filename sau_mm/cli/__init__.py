"""The command lines of the tools the pipeline runs, one module each, run as
``python -m sau_mm.cli.<name>`` (what :mod:`sau_mm.pipeline` runs, so an
installed package needs no repository) or through ``tools/<name>.py`` (the
README's commands; ``tools/analysis/`` for compare_runs and
synthetic_report): train, test, diffult_sample, diffult_filter,
subset_image_folder, generate_synthetic, compare_runs, synthetic_report.

Running one imports :mod:`sau_mm` first (its parent package): the
compatibility fixes and the registrations come before any MMEngine code."""
