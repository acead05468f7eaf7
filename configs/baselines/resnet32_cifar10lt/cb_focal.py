# Class-balanced focal loss (Cui et al. 2019, beta 0.9999, gamma 1).
_base_ = './ce.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='ClassBalancedLoss', loss_type='focal', beta=0.9999,
    gamma=1.0)))
