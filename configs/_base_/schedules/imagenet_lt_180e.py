# ImageNet-LT schedule: SGD 0.1, momentum 0.9, wd 5e-4, batch 256, 180 epochs,
# cosine annealing (SAU's ImageNet-LT setting).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=180,
                        begin=0, end=180)]
train_cfg = dict(by_epoch=True, max_epochs=180, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
