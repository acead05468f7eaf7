# SAU's training data for CIFAR-10 (JPEG)-LT, the image-folder CIFAR-10 in
# data/cifar10-jpeg (see sau_cifar10_lt.py).
_base_ = ['./cifar10_jpeg_lt.py', './sau_cifar_views.py']
sau_dataset = dict(
    _base_.train_dataloader.dataset, pipeline=_base_.sau_train_pipeline,
    synthetic_manifest='data/synthetic/cifar10jpeg_lt_if100/manifest.jsonl')
train_dataloader = dict(
    sampler=dict(_delete_=True, type='MixPartnerSampler', shuffle=True),
    dataset=dict(_delete_=True, type='MixPartnerDataset', dataset=sau_dataset,
                 partner_pipeline=_base_.partner_pipeline))
