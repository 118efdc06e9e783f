"""Common-corruption robustness (Hendrycks & Dietterich, ICLR 2019): noise, blur, weather and digital corruptions
at 5 severities (albumentations), corruption errors and mCE relative to a baseline model.
Modules import torch/albumentations; this package's ``__init__`` does not.
"""
