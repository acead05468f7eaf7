# Balanced Softmax (Ren et al. 2020) = logit-adjusted CE with tau 1, on your
# own image folder (see ce.py for the one setting that points it there).
_base_ = './ce.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='LogitAdjustedLoss', tau=1.0)))
