# DiffuLT data, then SAU, compared with CE, on CIFAR-10 (JPEG)-LT IF=100
# (GPU work):
#   python tools/run_pipeline.py configs/pipelines/diffult_sau_cifar10jpeg_lt.py
# The stages run the commands of configs/diffult/README.md in order; every
# path between them is derived from the work dir (sau_mm/pipeline/config.py).
work_dir = 'work_dirs/pipelines/diffult_sau_cifar10jpeg_lt'
# Every config below reads CIFAR-10 (JPEG)-LT at IF 100, subset seed 0 (the
# dataset base); fields given here would go into each of them.
dataset = dict(train=dict(), test=dict())
num_workers = None  # the configs' own
stages = dict(
    # 1. the class-conditional DDPM on the real long-tailed subset (300k
    #    iterations, bf16 autocast)
    train_generator=dict(type='train',
                         config='configs/diffult/ddpm_cifar10jpeg_lt.py',
                         amp=True),
    # 2. the complement of every class up to 5000, 1.5x for the filter
    sample=dict(type='diffult_sample', generator='train_generator',
                oversample=1.5, guidance=0.8, scheduler='ddim', steps=100),
    # 3. CE on the real data: the baseline, and the filter's encoder
    train_ce=dict(type='train',
                  config='configs/baselines/resnet32_cifar10jpeg_lt/ce.py'),
    # 4. keep samples at least as typical as the 10% least typical real image
    filter=dict(type='diffult_filter', samples='sample', classifier='train_ce',
                rule='centroid', quantile=0.1),
    # 5. SAU on real + filtered synthetic (classes the filter left short
    #    train with what passed)
    train_sau=dict(type='train',
                   config='configs/sau/resnet32_cifar10jpeg_lt.py',
                   synthetic='filter', dataset=dict(allow_partial_fill=True)),
    # 6. baselines on the same data: CE with synthetic samples weighted 0.5,
    #    GLAG (stage 2 from the stage-1 checkpoint)
    train_ce_diffult=dict(
        type='train',
        config='configs/diffult/ce_resnet32_cifar10jpeg_lt_diffult.py',
        synthetic='filter'),
    train_glag_stage1=dict(
        type='train', config='configs/glag/resnet32_cifar10jpeg_lt_stage1.py',
        synthetic='filter', dataset=dict(allow_partial_fill=True)),
    train_glag_stage2=dict(
        type='train', config='configs/glag/resnet32_cifar10jpeg_lt_stage2.py',
        synthetic='filter', dataset=dict(allow_partial_fill=True),
        load_from='train_glag_stage1'),
    # 7. the comparison table and figures, and the synthetic set's report
    compare=dict(type='compare_runs',
                 runs=['train_ce', 'train_sau', 'train_ce_diffult',
                       'train_glag_stage2']),
    synthetic_report=dict(type='synthetic_report', manifest='filter',
                          encoder='train_ce', noise_flags='train_sau'),
)
