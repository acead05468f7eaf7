from .resnet32 import ResNet32  # noqa: F401
