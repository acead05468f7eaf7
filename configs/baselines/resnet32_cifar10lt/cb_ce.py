# Class-balanced softmax CE (Cui et al. 2019, effective number, beta 0.9999).
_base_ = './ce.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='ClassBalancedLoss', loss_type='softmax', beta=0.9999)))
