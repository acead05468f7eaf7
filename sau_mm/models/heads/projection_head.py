"""ProjectionMLP: the synthetic-aware branch's projection phi."""
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


@MODELS.register_module()
class ProjectionMLP(BaseModule):
    """z = normalize(phi(f)), phi = Linear(d, h) -> BN -> ReLU -> Linear(h, h)
    -> BN -> ReLU -> Linear(h, out); SAU uses h = 2048, out = 128."""

    def __init__(self, in_channels: int, hidden_channels: int = 2048,
                 out_channels: int = 128, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.out_channels = out_channels
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, hidden_channels),
            nn.BatchNorm1d(hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, hidden_channels),
            nn.BatchNorm1d(hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, out_channels))

    def forward(self, feats):
        return F.normalize(self.mlp(feats), dim=1)
