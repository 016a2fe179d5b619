"""Training for RedditESS: SFT and DPO of the generation/improvement models, the effective-support classifier.

Scripts (TRL-style, `python training/<x>.py --config <recipe.yaml>` or `accelerate launch ...`): `sft.py`,
`dpo.py`, `classifier.py`. Recipes live in `training/recipes/<model>/<stage>.yaml`, launch configs in
`training/accelerate_configs/`. See training/README.md.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RECIPES_DIR = PACKAGE_DIR / "recipes"
ACCELERATE_CONFIGS_DIR = PACKAGE_DIR / "accelerate_configs"
