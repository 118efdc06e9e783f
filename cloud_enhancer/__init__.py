"""cloud_enhancer: the U-Net transfer network and universal perturbation that turn a probe signal into a filter."""
