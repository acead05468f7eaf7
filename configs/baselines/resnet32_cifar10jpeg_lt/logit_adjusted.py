# Logit-adjusted CE (Menon et al. 2021), tau 2 (set tau to taste).
_base_ = './ce.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='LogitAdjustedLoss', tau=2.0)))
