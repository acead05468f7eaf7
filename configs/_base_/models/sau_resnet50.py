# SAU (docs/method.md#sau-paper-section-3) on ResNet-50: the widened ResNet-32
# SAU model
# (sau_resnet32_wide.py) on a ResNet-50 encoder; the projector takes the
# head's 2048-d input. Every option not set here has DualBranchClassifier's
# default, which is the authors' value (listed in sau_resnet32_wide.py).
_base_ = './resnet50.py'
model = dict(
    type='DualBranchClassifier',
    head=dict(loss=dict(type='CrossEntropyLoss', use_soft=True)))
