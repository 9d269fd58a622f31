"""bench/gpu_check.py stays runnable: its CPU smoke mode runs every part (SFT through the job's engine path,
lm-eval generation, PPL/IFD scorers) at tiny sizes and writes the results file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_gpu_check_cpu_smoke_writes_every_result(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--cpu-smoke", "--out", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [path] = tmp_path.glob("*-cpu.json")
    report = json.loads(path.read_text())
    results = report["results"]
    assert set(results) == {"a_full_sft_llama_1b", "b_full_sft_smollm2_135m", "c_lm_eval_generation",
                            "d_scorers_ppl_ifd"}
    for key in ("a_full_sft_llama_1b", "b_full_sft_smollm2_135m"):
        assert results[key]["steady_tokens_per_s"] > 0 and results[key]["packing"] is True
        assert results[key]["job_tokens_per_s"] > 0 and results[key]["steps"] == 4
    assert results["c_lm_eval_generation"]["generated_tokens"] == 8 * 8  # every request ran max_gen_toks
    assert results["d_scorers_ppl_ifd"]["ifd_tokens_per_s"] > 0
    assert report["cpu_smoke"] is True and report["versions"]["trl"]
