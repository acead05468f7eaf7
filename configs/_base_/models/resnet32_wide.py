# Widened ResNet-32 of GLMC/SAU (64/128/256 channels, about 7.4M parameters).
_base_ = './resnet32.py'
model = dict(
    backbone=dict(base_channels=64), head=dict(in_channels=256))
