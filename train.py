"""SLADD training entry point. The logic lives in sladd_fast.train; see README "Training".

    python train.py --resolution 256 --dataname none --dset FF-DF --meta FF-DF -n 1 -g 8 -nr 0 -mp 5555
    torchrun --nproc_per_node 8 train.py --dset FF-DF --meta FF-DF
"""
import sys

from sladd_fast.train.cli import main

if __name__ == "__main__":
    sys.exit(main())
