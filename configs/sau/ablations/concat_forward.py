# Speed option: one concatenated encoder pass for the four batches instead of
# the authors' four (shared BatchNorm statistics;
# docs/method.md#total-loss-eq-14).
_base_ = '../resnet32_cifar100lt.py'
model = dict(concat_forward=True)
