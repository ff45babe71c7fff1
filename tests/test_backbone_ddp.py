"""DDP: two CPU processes (gloo, ddp_spawn) train a few steps and end with identical weights."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from backbone.train import train_backbone
from backbone.train_config import load_train_config

TINY = Path(__file__).resolve().parents[1] / "configs" / "train" / "tiny.yaml"


class SaveRankWeights(L.Callback):
    """Each rank writes its weights at the end of training (module-level: it is pickled to the workers)."""

    def __init__(self, folder: str):
        self.folder = folder

    def on_train_end(self, trainer, pl_module):
        from safetensors.torch import save_file

        state = {k: v.detach().cpu().contiguous() for k, v in pl_module.model.state_dict().items()}
        save_file(state, f"{self.folder}/rank{trainer.global_rank}of{trainer.world_size}.safetensors")


def test_two_gloo_ranks_hold_identical_weights(tiny_cube, tmp_path):
    from safetensors.torch import load_file

    cfg = load_train_config(TINY, [
        f"data.cube={tiny_cube}", f"output_dir={tmp_path / 'run'}", "data.batch_size=1",
        "phases=[{name: pretrain, max_steps: 3, mask_schedule: [[0, 0.5]]}]",
        "trainer.strategy=ddp_spawn", "trainer.devices=2", "trainer.accelerator=cpu",
        "trainer.limit_val_batches=0"])
    result = train_backbone(cfg, callbacks=[SaveRankWeights(str(tmp_path))])
    ranks = [load_file(str(tmp_path / f"rank{r}of2.safetensors")) for r in (0, 1)]
    assert set(ranks[0]) == set(ranks[1])
    diff = [k for k in ranks[0] if not torch.equal(ranks[0][k], ranks[1][k])]
    assert diff == []
    # and training moved them (the output layer starts at zero)
    assert ranks[0]["recovery.proj.weight"].abs().sum() > 0
    assert result.checkpoint.is_file()
