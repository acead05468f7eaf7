"""ClassConditionalDDPM: the DiffuLT generator, an MMEngine model.

A class-conditional UNet (diffusers ``UNet2DModel``, ``num_class_embeds =
C + 1``: class ``C`` is the null class of classifier-free guidance) that
predicts the noise of the linear-beta DDPM forward process. Trained by
MMEngine's runner (``tools/train.py configs/diffult/...``); sampled with
:meth:`ClassConditionalDDPM.sample`.
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel
from diffusers.utils.torch_utils import randn_tensor
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS

SAMPLERS = ('ddim', 'ddpm')


@MODELS.register_module()
class ClassConditionalDDPM(BaseModel):
    """Epsilon-prediction DDPM on images scaled to [-1, 1].

    Training step (``forward(mode='loss')``), per image x0 of class y:
    t ~ U{0..T-1}, eps ~ N(0, I),
    x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, y -> C (null class) with
    probability ``p_uncond``;
    ``loss_mse = mean (eps_theta(x_t, t, y) - eps)^2``.

    Guidance (``guided_eps``), scale w >= 0 (DiffuLT / CFG-DDPM convention):
    ``eps = (1 + w) * eps_theta(x, t, y) - w * eps_theta(x, t, C)``;
    w = 0 is exactly the conditional prediction (no unconditional pass).

    Args:
        num_classes: C, the number of real classes.
        unet: ``UNet2DModel`` keyword arguments (``num_class_embeds`` is
            set here to C + 1).
        num_train_timesteps, beta_start, beta_end, beta_schedule: the
            forward process (DDPM: 1000, 1e-4, 0.02, 'linear').
        p_uncond: label-dropout probability during training.
    """

    def __init__(self,
                 num_classes: int,
                 unet: dict,
                 num_train_timesteps: int = 1000,
                 beta_start: float = 1e-4,
                 beta_end: float = 0.02,
                 beta_schedule: str = 'linear',
                 p_uncond: float = 0.1,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if not 0 <= p_uncond < 1:
            raise ValueError(f'p_uncond must lie in [0, 1), got {p_uncond}.')
        self.num_classes = num_classes
        self.null_class = num_classes
        self.p_uncond = p_uncond
        unet = {k: tuple(v) if isinstance(v, list) else v
                for k, v in dict(unet).items()}
        self.unet = UNet2DModel(**unet, num_class_embeds=num_classes + 1)
        self.noise_scheduler = DDPMScheduler(
            num_train_timesteps=num_train_timesteps, beta_start=beta_start,
            beta_end=beta_end, beta_schedule=beta_schedule, clip_sample=True)

    # -------------------------------------------------------------- training
    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'loss'):
        if mode != 'loss':
            raise ValueError(
                f'ClassConditionalDDPM only trains (mode="loss"), got '
                f'mode={mode!r}; generate images with .sample() '
                '(tools/diffult_sample.py).')
        return self.loss(inputs, data_samples)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        labels = torch.cat([s.gt_label for s in data_samples]).to(
            inputs.device)
        n = inputs.size(0)
        t = torch.randint(0, self.noise_scheduler.config.num_train_timesteps,
                          (n, ), device=inputs.device)
        noise = torch.randn_like(inputs)
        drop = torch.rand(n, device=inputs.device) < self.p_uncond
        labels = torch.where(drop, torch.full_like(labels, self.null_class),
                             labels)
        noisy = self.noise_scheduler.add_noise(inputs, noise, t)
        pred = self.unet(noisy, t, class_labels=labels).sample
        return dict(loss_mse=F.mse_loss(pred.float(), noise.float()))

    # -------------------------------------------------------------- sampling
    def guided_eps(self, x: torch.Tensor, t, labels: torch.Tensor,
                   guidance: float) -> torch.Tensor:
        """``(1 + w) eps(x, t, y) - w eps(x, t, null)``; w = 0 gives
        eps(x, t, y) exactly (one conditional pass)."""
        if guidance == 0:
            return self.unet(x, t, class_labels=labels).sample
        null = torch.full_like(labels, self.null_class)
        eps = self.unet(torch.cat([x, x]), t,
                        class_labels=torch.cat([labels, null])).sample
        eps_cond, eps_uncond = eps.chunk(2)
        return (1 + guidance) * eps_cond - guidance * eps_uncond

    def make_sampler(self, kind: str, steps: int):
        """DDIM (eta = 0) or ancestral DDPM on ``steps`` respaced timesteps
        of the training process."""
        if kind not in SAMPLERS:
            raise ValueError(f'sampler must be one of {SAMPLERS}, got '
                             f'{kind!r}.')
        cls = DDIMScheduler if kind == 'ddim' else DDPMScheduler
        scheduler = cls.from_config(self.noise_scheduler.config)
        scheduler.set_timesteps(steps, device=self.unet.device)
        return scheduler

    @torch.no_grad()
    def sample(self,
               labels: Union[torch.Tensor, Sequence[int]],
               generators: List[torch.Generator],
               guidance: float = 0.8,
               sampler: str = 'ddim',
               steps: int = 100) -> torch.Tensor:
        """Generate one image per label; image i depends only on
        ``generators[i]`` (its initial noise and, for DDPM, its step noise),
        and on the batch size and its row i through float rounding (the
        kernels' order of operations; fix both for bit-identical images, as
        ``sampling.sample_complement`` does).

        Returns (N, 3, H, W) uint8 RGB: round((x0 + 1) * 127.5), x0 clipped
        to [-1, 1].
        """
        device = self.unet.device
        labels = torch.as_tensor(labels, device=device, dtype=torch.long)
        cfg = self.unet.config
        size = cfg.sample_size
        size = (size, size) if isinstance(size, int) else tuple(size)
        scheduler = self.make_sampler(sampler, steps)
        x = randn_tensor((len(labels), cfg.in_channels, *size),
                         generator=list(generators), device=device)
        x = x * scheduler.init_noise_sigma
        for t in scheduler.timesteps:
            eps = self.guided_eps(scheduler.scale_model_input(x, t), t,
                                  labels, guidance)
            x = scheduler.step(eps, t, x,
                               generator=list(generators)).prev_sample
        return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
