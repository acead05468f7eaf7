# Speed option: one concatenated encoder pass for the four batches instead of
# the authors' four (shared BatchNorm statistics; see README for its effect).
_base_ = '../resnet32_cifar100lt.py'
model = dict(concat_forward=True)
