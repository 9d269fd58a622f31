"""Jobs through a real Celery worker on the ``gpu`` queue: end to end, crash + resume, cancel."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from training.models import EvalResult
from training.job_runner import job_checkpoint_root, job_log_file
from training.services import job_cancel, job_create, recipe_create
from tests.polling import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait(job, *, until, timeout=150.0, worker=None):
    def fetch():
        job.refresh_from_db()
        return job

    return wait_until(
        fetch,
        until,
        timeout=timeout,
        interval=0.3,
        describe=lambda j: f"job {j.pk} stuck in {j.status}/{j.stage}: {j.error}\n{j.logs[-2000:]}\n"
        + (worker.log() if worker else ""),
    )


def test_job_trains_and_evaluates_through_the_worker(celery_worker, user, tiny_base, recipe, benchmarks, make_dataset):
    worker = celery_worker(queues=["gpu"])
    dataset = make_dataset()
    job = job_create(dataset=dataset, base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks, user=user)
    job = _wait(job, until=lambda j: j.status in ("succeeded", "failed"), worker=worker)
    assert job.status == "succeeded", job.error
    assert job.attempts == 1 and job.progress == 1.0 and job.task_id
    assert job.metrics["train_steps"] == 12  # 96 samples / batch 8
    assert job.metrics["train_loss_last"] < job.metrics["train_loss_first"]
    assert job.environment["torch"] and job.device == "cpu"
    results = {r.benchmark.slug: r for r in job.results.select_related("benchmark")}
    assert set(results) == {b.slug for b in benchmarks}
    for result in results.values():
        assert 0.0 <= result.score <= 1.0 and result.n_items == 12
        # lm-eval's standard error of a mean: the sample standard deviation (n - 1) over sqrt(n)
        assert result.stderr == pytest.approx((result.score * (1 - result.score) / 11) ** 0.5)
        assert result.harness_version.startswith("lm-eval ") and result.items_file
    assert "step 12/12" in job.logs and "through TRL SFTTrainer" in job.logs
    assert job.environment["trl"] and job.environment["peft"] and job.environment["accelerate"]
    assert job.metrics["train_tokens_per_s"] > 0 and "mfu" not in job.metrics  # MFU only on known GPUs
    assert not job_checkpoint_root(job).exists()  # checkpoints are removed once results are recorded
    assert (Path(job.weights_dir) / "model.safetensors").is_file()  # the fine-tuned weights are kept
    assert job_log_file(job).is_file()  # the engines' own log of this job


def test_crashed_worker_resumes_from_checkpoint(celery_worker, monkeypatch, user, tiny_base, benchmarks, make_dataset):
    recipe = recipe_create(name="resume recipe", learning_rate=3e-3, epochs=1.0, batch_size=8, max_length=48)
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "1")  # the broker hands an unacked task out again after 1 s
    monkeypatch.setenv("ARENA_LEASE_SECONDS", "1")  # ... and the dead worker's lease has expired by then
    monkeypatch.setenv("ARENA_CHECKPOINT_EVERY", "5")
    monkeypatch.setenv("ARENA_FAULT_KILL_AT_STEP", "7")  # first attempt: the worker SIGKILLs itself after step 7
    first = celery_worker(queues=["gpu"])
    job = job_create(dataset=make_dataset(), base_model=tiny_base, recipe=recipe, seed=1, benchmarks=benchmarks, user=user)
    deadline = time.monotonic() + 120
    while first.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.3)
    assert first.process.poll() is not None, "the worker should have died at step 7"
    job.refresh_from_db()
    assert job.status == "running" and job.attempts == 1
    assert job.metrics.get("checkpoint_step") == 5
    assert not job.results.exists()

    monkeypatch.delenv("ARENA_FAULT_KILL_AT_STEP")
    time.sleep(1.5)
    second = celery_worker(queues=["gpu"])
    job = _wait(job, until=lambda j: j.status in ("succeeded", "failed"), worker=second)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    assert job.metrics["resumed_from_step"] == 5
    assert "resumed from checkpoint at step 5" in job.logs
    before, after = job.logs.split("resuming", 1)
    assert "step 1/12" in before and "step 1/12" not in after  # the second attempt did not start over
    assert "step 10/12" in after and "step 12/12" in after
    assert EvalResult.objects.filter(job=job).count() == len(benchmarks)


def test_cancel_a_running_job(celery_worker, user, tiny_base, benchmarks, make_dataset):
    long_recipe = recipe_create(name="long recipe", learning_rate=1e-3, epochs=50.0, batch_size=8, max_length=48)
    worker = celery_worker(queues=["gpu"])
    job = job_create(dataset=make_dataset(), base_model=tiny_base, recipe=long_recipe, seed=0, benchmarks=benchmarks,
                     user=user)
    job = _wait(job, until=lambda j: j.status == "running" and j.progress > 0, worker=worker)
    job_cancel(job=job, user=user)
    job = _wait(job, until=lambda j: j.status != "running", timeout=60, worker=worker)
    assert job.status == "cancelled"
    assert job.finished_at is not None and "cancelled at step" in job.logs
    assert not job.results.exists()
    assert not job_checkpoint_root(job).exists() and not job.weights_dir
    assert job.progress < 0.8


CPU_TWO_PROCESSES = """\
compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
mixed_precision: 'no'
num_machines: 1
num_processes: 2
machine_rank: 0
main_process_ip: 127.0.0.1
main_process_port: {port}
rdzv_backend: static
same_network: true
use_cpu: true
"""


@pytest.mark.slow
def test_gpu_worker_runs_the_job_through_accelerate_launch(celery_worker, monkeypatch, tmp_path, user, tiny_base,
                                                            recipe, benchmarks, make_dataset):
    """ARENA_TRAIN_LAUNCHER=accelerate: the task starts `accelerate launch ... manage.py training_run_job <id>` with two
    data-parallel processes (torchrun + gloo on CPU here, NCCL on GPUs); rank 0 alone writes the Job row and evaluates."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "cpu2.yaml"
    config.write_text(CPU_TWO_PROCESSES.format(port=port))
    monkeypatch.setenv("ARENA_TRAIN_LAUNCHER", "accelerate")
    monkeypatch.setenv("ARENA_ACCELERATE_CONFIG", str(config))
    monkeypatch.setenv("ARENA_TRAIN_NUM_PROCESSES", "2")
    monkeypatch.setenv("ARENA_DEVICE", "cpu")
    worker = celery_worker(queues=["gpu"])
    job = job_create(dataset=make_dataset(), base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks,
                     user=user)
    job = _wait(job, until=lambda j: j.status in ("succeeded", "failed"), timeout=300, worker=worker)
    log = job_log_file(job).read_text()
    assert job.status == "succeeded", f"{job.error}\n{log[-3000:]}"
    assert job.attempts == 1 and job.environment["world_size"] == 2
    assert job.metrics["train_steps"] == 6  # 96 samples / (batch 8 x 2 processes)
    assert "launching: " in log and "training_run_job" in log and "--num_processes 2" in log
    assert job.logs.count("succeeded") == 1 and job.logs.count("through TRL SFTTrainer") == 1  # rank 0 only
    assert EvalResult.objects.filter(job=job).count() == len(benchmarks)
    assert (Path(job.weights_dir) / "model.safetensors").is_file()


def test_launcher_refuses_a_bad_accelerate_config_as_a_job_failure(celery_worker, monkeypatch, tmp_path, user,
                                                                   tiny_base, recipe, benchmarks, make_dataset):
    config = tmp_path / "bad.yaml"
    config.write_text("distributed_type: MULTI_GPU\nmixed_precision: bf17\n")
    monkeypatch.setenv("ARENA_TRAIN_LAUNCHER", "accelerate")
    monkeypatch.setenv("ARENA_ACCELERATE_CONFIG", str(config))
    worker = celery_worker(queues=["gpu"])
    job = job_create(dataset=make_dataset(), base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks,
                     user=user)
    job = _wait(job, until=lambda j: j.status in ("succeeded", "failed"), timeout=60, worker=worker)
    assert job.status == "failed" and job.finished_at is not None
    assert job.error == "bad accelerate config bad.yaml: mixed_precision must be one of no, fp16, bf16, fp8, got 'bf17'"
    assert not job.results.exists()
