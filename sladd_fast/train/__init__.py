"""SLADD training: config, losses, the adversarial step, the loop, checkpoints, launch."""
from sladd_fast.train.config import Config, dump_config, load_config
from sladd_fast.train.losses import DetectorTargets, am_softmax_ce, detector_losses
from sladd_fast.train.step import RewardBaseline, StepOptions, StepResult, forge, policy_loss, train_step

__all__ = ["Config", "DetectorTargets", "RewardBaseline", "StepOptions", "StepResult", "am_softmax_ce",
           "detector_losses", "dump_config", "forge", "load_config", "policy_loss", "train_step"]
