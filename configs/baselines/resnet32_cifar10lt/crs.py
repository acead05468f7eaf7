# Class-balanced re-sampling: a class uniformly, then one of its images.
_base_ = './ce.py'
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassBalancedSampler'))
