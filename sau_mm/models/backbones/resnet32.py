"""ResNet-32 for 32x32 inputs (He et al. 2016, CIFAR variant), two widths.

stem 3x3 conv -> C0 channels, then 3 stages of 5 BasicBlocks at C0, 2*C0, 4*C0
channels (strides 1, 2, 2). Option-A shortcuts: when a block changes shape,
the identity is subsampled (stride 2) and zero-padded in channels. Kaiming-
normal init. ``base_channels=16`` is the classic ResNet-32 (0.46M params);
``base_channels=64`` is the widened one of GLMC/SAU (about 7.4M params).
"""
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


class OptionAShortcut(nn.Module):
    """Identity shortcut: subsample by ``stride`` and zero-pad channels."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.stride = stride
        self.pad = out_channels - in_channels

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN + shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = OptionAShortcut(in_channels, out_channels, stride)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


@MODELS.register_module()
class ResNet32(BaseModule):
    """ResNet-32 (CIFAR). Returns a 1-tuple with the last feature map
    (N, 4*base_channels, 8, 8) for a 32x32 input; pool it with MMPretrain's
    GlobalAveragePooling neck.

    Args:
        base_channels: 16 (classic) or 64 (widened, GLMC/SAU).
        num_blocks: BasicBlocks per stage (5 gives 6*5+2 = 32 layers).
    """

    def __init__(self, base_channels: int = 16, num_blocks: int = 5,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        widths = [base_channels, 2 * base_channels, 4 * base_channels]
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, in_ch = [], widths[0]
        for stage, (width, stride) in enumerate(zip(widths, (1, 2, 2))):
            blocks = []
            for i in range(num_blocks):
                blocks.append(BasicBlock(in_ch, width, stride if i == 0 else 1))
                in_ch = width
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.out_channels = in_ch
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return (x, )
