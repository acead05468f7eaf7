# GLAG stage 1 (docs/method.md#glag-this-projects-formulas: this project's
# formula, not GLAG's published one) on MMPretrain's ResNet-50: the Gradual
# Balanced Loss
# L_t = (1 - a_t) CE + a_t BalancedSoftmax, a_t = (t / T)^2, T = last epoch.
_base_ = './resnet50.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='GradualBalancedLoss', power=2.0, end_epoch=None)))
