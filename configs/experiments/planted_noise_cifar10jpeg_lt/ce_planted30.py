# Arm 2: CE on real + the oracle complement with 30% planted bad images,
# every class filled to 1,000 images (synthetic weight 1: no special
# treatment). The manifest comes from tools/corrupt_manifest.py (README
# "Planted-noise experiment"); it is a diagnostic, never synthetic data.
_base_ = './ce_real.py'
train_dataloader = dict(dataset=dict(
    synthetic_manifest='data/synthetic/cifar10jpeg_lt_if100_oracle_planted30/'
    'manifest.jsonl',
    target_count=1000))
