# GLAG stage 2 (docs/method.md#glag-this-projects-formulas: this project's
# formulas, not GLAG's published ones): what every configs/glag/*_stage2.py
# changes in its stage-1 config.
# The names have a stage2_ prefix because a stage-2 leaf inherits both this
# file and its stage-1 config, and bases may not share keys.
# Encoder frozen, head re-trained on real + calibrated tail features
# (k = 3 nearest heads, b = 0.1, tail = real count below the median), MixUp
# of the joined batch (Beta(1, 1)), soft-target CE.
stage2_model = dict(
    type='FeatureAugmentedClassifier',
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss',
                        use_soft=True)),
    generator=dict(k=3, b=0.1, tail_threshold='median'),
    mix=True,
    mix_alpha=1.0)
# 30 epochs, lr 0.05, cosine; plain shuffling (the generated features
# balance the classes).
stage2_optim_wrapper = dict(optimizer=dict(lr=0.05))
stage2_param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=30, begin=0, end=30,
         convert_to_iter_based=True)
]
stage2_train_cfg = dict(max_epochs=30, val_interval=5)
stage2_train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
