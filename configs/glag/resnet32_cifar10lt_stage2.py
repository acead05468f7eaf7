# GLAG stage 2: classic ResNet-32, CIFAR-10-LT. The stage-1 encoder frozen,
# the head re-trained with calibrated tail features; what changes from
# stage 1 is in configs/_base_/glag_stage2.py.
_base_ = ['./resnet32_cifar10lt_stage1.py', '../_base_/glag_stage2.py']
model = _base_.stage2_model
optim_wrapper = _base_.stage2_optim_wrapper
param_scheduler = _base_.stage2_param_scheduler
train_cfg = _base_.stage2_train_cfg
train_dataloader = _base_.stage2_train_dataloader
# The stage-1 checkpoint, given on the command line: --cfg-options
# load_from=work_dirs/glag/resnet32_cifar10lt_stage1/epoch_200.pth
load_from = None
