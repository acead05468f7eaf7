# Balanced Softmax (Ren et al. 2020) = logit-adjusted CE with tau 1.
_base_ = './ce.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='LogitAdjustedLoss', tau=1.0)))
