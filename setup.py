from setuptools import find_packages, setup

setup(
    name='sau_mm',
    version='0.1.0',
    description='Long-tailed recognition with synthetic data (SAU, DiffuLT, '
    'baselines) as an MMPretrain plugin',
    packages=find_packages(include=['sau_mm', 'sau_mm.*']),
    python_requires='>=3.11',
    # Versions are pinned in requirements.txt; only names here so that a GPU
    # machine's own torch build is never replaced.
    install_requires=[
        'mmengine', 'mmcv-lite', 'mmpretrain', 'diffusers', 'open_clip_torch',
        'openai'
    ],
)
