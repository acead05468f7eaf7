# Text-to-image data, then SAU, compared with CE, on CIFAR-10 (JPEG)-LT
# IF=100 (GPU work): the stages of tools/generate_synthetic.py (README
# "Text-to-image + CLIP filter") in one folder, WORK/plan/, then the
# classifiers. Give the local model files on the command line:
#   python tools/run_pipeline.py configs/pipelines/t2i_sau_cifar10jpeg_lt.py \
#       --cfg-options stages.generate.pipeline_dir=/models/sd-turbo \
#       stages.clip_filter.clip_checkpoint=/models/open_clip_vit_b32.bin
# LLM prompts: stages.prompts.mode=llm stages.prompts.model=NAME
# stages.prompts.base_url=http://host:8000/v1 (key: $OPENAI_API_KEY).
work_dir = 'work_dirs/pipelines/t2i_sau_cifar10jpeg_lt'
dataset = dict(train=dict(), test=dict())
num_workers = None
stages = dict(
    # 1-4. the complement of every class up to 5000, 1.5x for the filter;
    #      basic prompts; SD-Turbo-like 4-step generation; CLIP keeps the
    #      best 67% of every class
    plan=dict(type='t2i_plan',
              config='configs/sau/resnet32_cifar10jpeg_lt.py',
              oversample=1.5),
    prompts=dict(type='t2i_prompts', plan='plan', mode='basic'),
    generate=dict(type='t2i_generate', prompts='prompts',
                  pipeline_dir='/models/sd-turbo', steps=4, guidance=0.0,
                  batch_size=64),
    clip_filter=dict(type='t2i_filter', images='generate',
                     clip_model='ViT-B-32',
                     clip_checkpoint='/models/open_clip_vit_b32.bin',
                     keep_fraction=0.67),
    # 5. CE on the real data: the baseline, and the report's encoder
    train_ce=dict(type='train',
                  config='configs/baselines/resnet32_cifar10jpeg_lt/ce.py'),
    # 6. SAU and CE on real + the kept synthetic images; GLAG
    train_sau=dict(type='train',
                   config='configs/sau/resnet32_cifar10jpeg_lt.py',
                   synthetic='clip_filter',
                   dataset=dict(allow_partial_fill=True)),
    train_ce_real_synthetic=dict(
        type='train',
        config=('configs/baselines/resnet32_cifar10jpeg_lt/'
                'ce_real_synthetic.py'),
        synthetic='clip_filter', dataset=dict(allow_partial_fill=True)),
    train_glag_stage1=dict(
        type='train', config='configs/glag/resnet32_cifar10jpeg_lt_stage1.py',
        synthetic='clip_filter', dataset=dict(allow_partial_fill=True)),
    train_glag_stage2=dict(
        type='train', config='configs/glag/resnet32_cifar10jpeg_lt_stage2.py',
        synthetic='clip_filter', dataset=dict(allow_partial_fill=True),
        load_from='train_glag_stage1'),
    # 7. the comparison and the synthetic set's report
    compare=dict(type='compare_runs',
                 runs=['train_ce', 'train_sau', 'train_ce_real_synthetic',
                       'train_glag_stage2']),
    synthetic_report=dict(type='synthetic_report', manifest='clip_filter',
                          encoder='train_ce', noise_flags='train_sau'),
)
