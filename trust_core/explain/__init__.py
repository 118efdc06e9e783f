"""Explainability: saliency maps (gradients, SmoothGrad, Integrated Gradients, Grad-CAM via captum; LRP ε-rule),
for class logits or any scalar function of the input (e.g. a face-verification cosine score), and PNG figures.
Modules import torch; this package's ``__init__`` does not.
"""
