# SAU's CIFAR schedule (authors' code,
# docs/method.md#training-schedule-and-model): SGD 0.01, momentum 0.9,
# wd 5e-3, batch 128, 200 epochs, cosine annealing per epoch to 0, no
# warm-up; evaluation after EVERY epoch (the paper reports the best of the
# 200 evaluations: lt/top1_best; lt/top1 is the last).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-3))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=200,
                        begin=0, end=200)]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
