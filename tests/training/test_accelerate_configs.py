"""accelerate does not validate its config files: Arena does, before any launch."""
from __future__ import annotations

import pytest

from arena.errors import InvalidInput
from training.engine.accelerate_config import (
    CONFIG_DIR,
    CONFIG_FOR_STRATEGY,
    accelerate_config_check,
    accelerate_config_for,
)
from training.launcher import launch_command


@pytest.mark.parametrize("name", sorted(set(CONFIG_FOR_STRATEGY.values())))
def test_shipped_configs_are_valid_and_load_with_accelerate(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = accelerate_config_check(path=CONFIG_DIR / name)
    loaded = load_config_from_file(str(CONFIG_DIR / name))  # accelerate's own loader accepts them too
    assert str(loaded.distributed_type).split(".")[-1] == config["distributed_type"]


def test_shipped_configs_are_fsdp2_and_zero3():
    fsdp = accelerate_config_check(path=CONFIG_DIR / "fsdp2.yaml")
    zero = accelerate_config_check(path=CONFIG_DIR / "deepspeed_zero3.yaml")
    assert fsdp["fsdp_config"]["fsdp_version"] == 2 and fsdp["mixed_precision"] == "bf16"
    assert zero["deepspeed_config"]["zero_stage"] == 3 and zero["deepspeed_config"]["zero3_save_16bit_model"] is True


def _write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("distributed_type: FSDP\nmixed_precision: bf17\n", "mixed_precision must be one of no, fp16, bf16, fp8, got 'bf17'"),
        ("distributed_type: MULTI_GPU\nnum_procesess: 8\n", "unknown key num_procesess; allowed: compute_environment"),
        ("distributed_type: FSDP\nfsdp_config:\n  fsdp_verison: 2\n", "unknown key fsdp_config.fsdp_verison"),
        ("distributed_type: FSDP\nfsdp_config:\n  fsdp_version: 3\n", "fsdp_config.fsdp_version must be one of 1, 2, got 3"),
        ("distributed_type: DEEPSPEED\ndeepspeed_config:\n  zero_stage: 4\n",
         "deepspeed_config.zero_stage must be one of 0, 1, 2, 3, got 4"),
        ("distributed_type: DEEPSPEED\ndeepspeed_config:\n  offload_param_device: gpu\n",
         "deepspeed_config.offload_param_device must be one of none, cpu, nvme"),
        ("distributed_type: DEEPSPEED\ndeepspeed_config:\n  zero3_init_flag: true\n", "needs zero_stage"),
        ("distributed_type: MULTI_GPU\nfsdp_config:\n  fsdp_version: 2\n", "fsdp_config is given but distributed_type"),
        ("distributed_type: MULTI_GPU\nnum_machines: 2\nmachine_rank: 2\n", "machine_rank must be in [0, 1]"),
        ("distributed_type: MULTI_GPU\nnum_machines: 2\n", "num_machines > 1 needs main_process_ip"),
        ("distributed_type: MULTI_GPU\nnum_processes: -1\n", "num_processes must be a non-negative integer"),
        ("distributed_type: MULTI_GPU\nuse_cpu: maybe\n", "use_cpu must be one of True, False, got 'maybe'"),
        ("- just\n- a list\n", "must be a mapping"),
        ("distributed_type: [unclosed\n", "is not valid YAML"),
    ],
)
def test_bad_configs_are_refused_naming_key_and_allowed_values(tmp_path, text, message):
    with pytest.raises(InvalidInput) as info:
        accelerate_config_check(path=_write(tmp_path, text))
    assert message in info.value.message


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(InvalidInput) as info:
        accelerate_config_check(path=_write(tmp_path, "distributed_type: NOPE\nmixed_precision: bf17\ntypo: 1\n"))
    assert info.value.message.count(";") >= 2


def test_missing_file_and_missing_deepspeed_are_clear(tmp_path, monkeypatch):
    with pytest.raises(InvalidInput, match="accelerate config file not found"):
        accelerate_config_check(path=tmp_path / "nope.yaml")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(InvalidInput, match=r"DeepSpeed, which is not installed on the worker: pip install 'arena\[gpu\]'"):
        accelerate_config_for(strategy="zero3")


def test_launch_command_runs_manage_py_training_run_job_under_accelerate():
    command = launch_command(job_id=42, config_file=CONFIG_DIR / "fsdp2.yaml", num_processes=8)
    assert command[-3:] == [command[-3], "training_run_job", "42"] and command[-3].endswith("manage.py")
    assert command[command.index("--config_file") + 1].endswith("fsdp2.yaml")
    assert command[command.index("--num_processes") + 1] == "8"
    assert "launch" in " ".join(command[:3])
