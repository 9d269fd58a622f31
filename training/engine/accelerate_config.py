"""The accelerate config files Arena launches jobs with, and their validation.

accelerate loads a config file without checking keys or values (a misspelt key or ``mixed_precision: bf17``
passes silently), so every file is checked here before a launch: each key must be one accelerate knows, each
value of the keys that decide how a job runs must be allowed, and problems are reported all at once, naming
the key and what it allows. The shipped files live in ``training/accelerate_configs/``, one per recipe
``distributed`` strategy.
"""
from __future__ import annotations

from pathlib import Path

from arena.errors import InvalidInput

CONFIG_DIR = Path(__file__).resolve().parent.parent / "accelerate_configs"
CONFIG_FOR_STRATEGY = {"none": "multi_gpu.yaml", "ddp": "multi_gpu.yaml", "fsdp": "fsdp2.yaml",
                       "zero3": "deepspeed_zero3.yaml"}

_BOOL = (True, False)
TOP_LEVEL = {
    "compute_environment": ("LOCAL_MACHINE",),
    "distributed_type": ("NO", "MULTI_GPU", "MULTI_CPU", "FSDP", "DEEPSPEED"),
    "mixed_precision": ("no", "fp16", "bf16", "fp8"),
    "use_cpu": _BOOL,
    "debug": _BOOL,
    "num_processes": int,
    "machine_rank": int,
    "num_machines": int,
    "gpu_ids": str,
    "main_process_ip": str,
    "main_process_port": int,
    "rdzv_backend": ("static", "c10d", "etcd", "etcd-v2"),
    "same_network": _BOOL,
    "main_training_function": str,
    "enable_cpu_affinity": _BOOL,
    "downcast_bf16": ("no", "yes", True, False),
    "deepspeed_config": dict,
    "fsdp_config": dict,
    "dynamo_config": dict,
    "tpu_env": list,
    "tpu_use_cluster": _BOOL,
    "tpu_use_sudo": _BOOL,
}
FSDP_KEYS = {
    "fsdp_version": (1, 2),
    "fsdp_auto_wrap_policy": ("TRANSFORMER_BASED_WRAP", "SIZE_BASED_WRAP", "NO_WRAP"),
    "fsdp_cpu_ram_efficient_loading": _BOOL,
    "fsdp_offload_params": _BOOL,
    "fsdp_reshard_after_forward": (True, False, "FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD", "HYBRID_SHARD"),
    "fsdp_state_dict_type": ("FULL_STATE_DICT", "SHARDED_STATE_DICT", "LOCAL_STATE_DICT"),
    "fsdp_activation_checkpointing": _BOOL,
    "fsdp_transformer_layer_cls_to_wrap": str,
    "fsdp_min_num_params": int,
    "fsdp_backward_prefetch": ("BACKWARD_PRE", "BACKWARD_POST", "NO_PREFETCH"),
    "fsdp_forward_prefetch": _BOOL,
    "fsdp_sync_module_states": _BOOL,
    "fsdp_use_orig_params": _BOOL,
}
DEEPSPEED_KEYS = {
    "zero_stage": (0, 1, 2, 3),
    "zero3_init_flag": _BOOL,
    "zero3_save_16bit_model": _BOOL,
    "offload_optimizer_device": ("none", "cpu", "nvme"),
    "offload_param_device": ("none", "cpu", "nvme"),
    "offload_optimizer_nvme_path": str,
    "offload_param_nvme_path": str,
    "deepspeed_multinode_launcher": ("standard", "pdsh", "mvapich", "openmpi", "impi", "nossh"),
    "deepspeed_hostfile": str,
    "deepspeed_config_file": str,
    "deepspeed_inclusion_filter": str,
    "deepspeed_exclusion_filter": str,
    "deepspeed_moe_layer_cls_names": str,
    "gradient_accumulation_steps": int,
    "gradient_clipping": float,
}


def _check(section: str, values: dict, allowed: dict, problems: list[str]) -> None:
    for key, value in values.items():
        where = f"{section}.{key}" if section else key
        if key not in allowed:
            problems.append(f"unknown key {where}; allowed: {', '.join(allowed)}")
            continue
        rule = allowed[key]
        if isinstance(rule, tuple):
            if value not in rule or (isinstance(value, bool) and not any(r is value for r in rule)):
                problems.append(f"{where} must be one of {', '.join(map(str, rule))}, got {value!r}")
        elif rule is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"{where} must be a number, got {value!r}")
        elif rule is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            problems.append(f"{where} must be a non-negative integer, got {value!r}")
        elif rule is not int and not isinstance(value, rule):
            problems.append(f"{where} must be a {rule.__name__}, got {value!r}")


def accelerate_config_check(*, path: str | Path) -> dict:
    """Parse and validate an accelerate config file; returns it, or raises InvalidInput listing every problem."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"accelerate config file not found: {path}")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"accelerate config {path.name} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise InvalidInput(f"accelerate config {path.name} must be a mapping of keys to values")
    problems: list[str] = []
    _check("", config, TOP_LEVEL, problems)
    kind = config.get("distributed_type")
    if kind == "FSDP":
        _check("fsdp_config", config.get("fsdp_config") or {}, FSDP_KEYS, problems)
    if kind == "DEEPSPEED":
        deepspeed = config.get("deepspeed_config") or {}
        _check("deepspeed_config", deepspeed, DEEPSPEED_KEYS, problems)
        if "zero_stage" not in deepspeed and "deepspeed_config_file" not in deepspeed:
            problems.append("deepspeed_config needs zero_stage (or a deepspeed_config_file)")
    for section, needs in (("fsdp_config", "FSDP"), ("deepspeed_config", "DEEPSPEED")):
        if config.get(section) and kind != needs:
            problems.append(f"{section} is given but distributed_type is {kind!r}, not {needs}")
    machines, rank = config.get("num_machines", 1), config.get("machine_rank", 0)
    if isinstance(machines, int) and isinstance(rank, int) and machines >= 1 and not 0 <= rank < machines:
        problems.append(f"machine_rank must be in [0, {machines - 1}] for num_machines {machines}, got {rank}")
    if isinstance(machines, int) and machines > 1 and not config.get("main_process_ip"):
        problems.append("num_machines > 1 needs main_process_ip (the address of machine 0)")
    if problems:
        raise InvalidInput(f"bad accelerate config {path.name}: " + "; ".join(problems))
    return config


def accelerate_config_for(*, strategy: str, override: str = "") -> Path:
    """The config file a job with recipe ``distributed=strategy`` launches with (``override`` wins), validated."""
    path = Path(override) if override else CONFIG_DIR / CONFIG_FOR_STRATEGY[strategy]
    config = accelerate_config_check(path=path)
    if config.get("distributed_type") == "DEEPSPEED":
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise InvalidInput("this job's accelerate config uses DeepSpeed, which is not installed on the worker: "
                               "pip install 'arena[gpu]' (or deepspeed)")
    return path
