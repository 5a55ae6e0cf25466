"""The two networks of SLADD: the detector and the synthesizer policy (timm legacy_xception trunks)."""
from sladd_fast.models.detector import Detector, DetectorOutput, fake_probability, normalize
from sladd_fast.models.synthesizer import Actions, PolicyLogits, SynthesizerPolicy, sample_actions
from sladd_fast.models.xception import load_trunk_weights, read_imagenet_weights, xception_trunk

__all__ = ["Actions", "Detector", "DetectorOutput", "PolicyLogits", "SynthesizerPolicy", "fake_probability",
           "load_trunk_weights", "normalize", "read_imagenet_weights", "sample_actions", "xception_trunk"]
