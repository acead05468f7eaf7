# GLAG stage 2: ResNet-50, ImageNet-LT. The stage-1 encoder frozen,
# the head re-trained with calibrated tail features; what changes from
# stage 1 is in configs/_base_/glag_stage2.py.
_base_ = ['./resnet50_imagenetlt_stage1.py', '../_base_/glag_stage2.py']
model = _base_.stage2_model
optim_wrapper = _base_.stage2_optim_wrapper
param_scheduler = _base_.stage2_param_scheduler
train_cfg = _base_.stage2_train_cfg
train_dataloader = _base_.stage2_train_dataloader
# The stage-1 checkpoint, given on the command line: --cfg-options
# load_from=work_dirs/glag/resnet50_imagenetlt_stage1/epoch_180.pth
load_from = None
