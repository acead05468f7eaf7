"""Text-to-image synthetic complement (paper section 3.2), as resumable stages.

Run through ``tools/generate_synthetic.py {plan,prompts,generate,filter,
inspect}`` (its command line is :func:`.cli.main`); every stage reads and
writes one output folder::

    plan.json            classes, real / needed counts, target, dataset info
    prompts_cache.jsonl  every LLM answer ever received (append-only)
    prompts.json         the prompt of every planned image
    generation.json      the settings the images are made with
    images/<c>/<i>.png   image i of class c (prompt and seed embedded)
    generated.jsonl      manifest of every planned image (generate)
    manifest.jsonl       what LongTailSyntheticDataset reads (generate, or
                         filter: kept images, best score first per class)
    clip_scores/         CLIP score cache (filter)
    scored.jsonl         every generated image with its score (filter)
    filter_report.json   per-class kept / dropped counts and score statistics
    inspect/<c>_<name>.png  contact sheets (inspect)
    logs/                one log file per stage run

Modules: :mod:`.plan`, :mod:`.prompts`, :mod:`.generate`, :mod:`.clip_filter`,
:mod:`.contact_sheet`; shared file names and helpers in :mod:`.layout`; the
command line in :mod:`.cli`, the generate throughput benchmark in
:mod:`.benchmark`. Stage functions take their essential inputs positionally
and every setting as a keyword argument.
"""
